"""The host's exception hierarchy, drawn once so callers know what to catch.

    IntellectraError                 base of everything the host raises on purpose
    ├── ConfigError                  registry.toml or environment is wrong (names the key path)
    ├── PluginError                  a plugin misbehaved: import, hooks, declaration, version
    │   ├── PluginNotLoaded          an addressed call to an integration that is not loaded
    │   ├── PluginBusy               every thread of the plugin's lane stayed busy past the budget (503)
    │   └── PluginTimeout            a plugin's call ran past its time budget (504)
    ├── SecretsError                 no key, or a ciphertext no configured key can open
    ├── ConnectError                 connecting failed in a way the creator should read
    │   └── ConnectStateError        forged, expired, reused or other-tenant connect state
    ├── NotConnected                 an operation needs a connection the tenant does not have
    ├── ActionRequired               the provider needs something from the user first (409)
    ├── IgnoreEvent                  a handler acknowledges an event without applying it
    ├── WebhookRejected              inbound webhook refused (bad signature, stale, malformed)
    ├── ValidationFailed             input from a client failed validation (400)
    ├── NotFound                     the addressed object does not exist for this tenant (404)
    └── Unauthenticated              a web request acts for no tenant: nobody signed in (401)

Every error carries a stable machine ``code`` and a ``message`` that says what was wrong and
what to do; ``http_status`` is what the web layer answers with; ``field`` names the input that was
wrong, when one was (the page marks it, API clients get it as ``error.field``). Messages never
contain secrets.
"""

from __future__ import annotations


class IntellectraError(Exception):
    """Base class: ``code`` for machines, ``message`` for people, ``http_status`` for the web."""

    code: str = "error"
    http_status: int = 500

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None,
                 action_url: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.action_url = action_url
        self.field = field

    def to_json(self) -> dict[str, object]:
        """The ``{"error": {...}}`` body the web layer answers with."""
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.action_url:
            body["action_url"] = self.action_url
        if self.field:
            body["field"] = self.field
        return {"error": body}


class ConfigError(IntellectraError):
    code = "config_invalid"


class PluginError(IntellectraError):
    code = "plugin_failed"


class PluginNotLoaded(PluginError):
    code = "integration_not_loaded"
    http_status = 404


class PluginBusy(PluginError):
    code = "plugin_busy"
    http_status = 503


class PluginTimeout(PluginError):
    code = "plugin_timeout"
    http_status = 504


class SecretsError(IntellectraError):
    code = "secrets_unavailable"


class ConnectError(IntellectraError):
    code = "connect_failed"
    http_status = 400


class ConnectStateError(ConnectError):
    code = "connect_state_invalid"


class NotConnected(IntellectraError):
    code = "not_connected"
    http_status = 409


class ActionRequired(IntellectraError):
    code = "action_required"
    http_status = 409


class WebhookRejected(IntellectraError):
    code = "webhook_rejected"
    http_status = 400


class ValidationFailed(IntellectraError):
    code = "invalid_request"
    http_status = 400


class NotFound(IntellectraError):
    code = "not_found"
    http_status = 404


class Unauthenticated(IntellectraError):
    code = "unauthenticated"
    http_status = 401


class IgnoreEvent(IntellectraError):
    """Raised by ``handle_event`` to acknowledge an event on purpose without applying it."""

    code = "event_ignored"
    http_status = 200
