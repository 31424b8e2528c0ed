"""Card forms: checking a submission of a form a plugin put on its card, then handing it to the plugin.

The settings page and the tenant API both submit through :class:`CardForms`, so they cannot drift apart. The host
does what every form needs (the form exists, the connection allows it, required fields, choices);
the plugin's ``submit_card_form`` hook does the rest and says what happened.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.audit import write_audit
from core.clock import Clock
from core.connections import Connections
from core.effects import ContextFactory, apply_effects
from core.errors import NotConnected, NotFound, PluginError, ValidationFailed
from core.models import (
    CardForm,
    CardFormResult,
    Connection,
    ConnectionState,
    Field,
    FormWhen,
    IntegrationInfo,
    Tenant,
)
from core.plugins import PluginHost
from core.secrets import SecretBox
from core.store import Store

HOOK = "submit_card_form"
WORKING_STATES = frozenset({ConnectionState.CONNECTED, ConnectionState.ACTION_REQUIRED})
"""A ``when="connected"`` form is usable in these states: the provider still answers for the account."""


def is_shown(form: CardForm, connection: Connection | None) -> bool:
    """Whether the page shows ``form`` (and accepts it) for a site with ``connection``."""
    if form.when is FormWhen.ALWAYS:
        return True
    return connection is not None and connection.state in WORKING_STATES


def find_form(info: IntegrationInfo, name: str) -> CardForm:
    for form in info.card_forms:
        if form.name == name:
            return form
    known = ", ".join(f.name for f in info.card_forms) or "none"
    raise NotFound(f"{info.title} has no form named {name!r} (its forms: {known}).", code="card_form_not_found")


def check_values(form: CardForm, values: Mapping[str, str]) -> dict[str, str]:
    """The declared fields only, stripped; every required one present and every select value a choice."""
    clean: dict[str, str] = {}
    missing: list[Field] = []
    for field in form.fields:
        value = str(values.get(field.name, "") or "").strip()
        if not value:
            if field.required:
                missing.append(field)
            continue
        allowed = [c.value for c in field.choices]
        if allowed and value not in allowed:
            shown = "that value" if field.secret else repr(value)
            raise ValidationFailed(f"{field.label}: {shown} is not one of the choices; choose one of "
                                   f"{', '.join(c.label for c in field.choices)}.", code="card_form_invalid",
                                   field=field.name)
        clean[field.name] = value
    if missing:
        raise ValidationFailed(f"Fill in {', '.join(f.label for f in missing)} (required for “{form.title}”).",
                               code="card_form_field_missing", field=missing[0].name)
    return clean


class CardForms:
    """Submissions of the forms plugins put on their cards (``Host.submit_card_form``)."""

    def __init__(self, *, store: Store, clock: Clock, secrets: SecretBox, plugins: PluginHost,
                 connections: Connections, contexts: ContextFactory) -> None:
        self.store, self.clock, self.secrets, self.plugins = store, clock, secrets, plugins
        self.connections, self.contexts = connections, contexts

    def submit(self, tenant: Tenant, integration: str, form_name: str, values: Mapping[str, str], *,
               base_url: str, actor: str) -> CardFormResult:
        """Check a submission of ``integration``'s form ``form_name`` and call its ``submit_card_form`` hook.

        ``IntellectraError`` from the plugin (``ValidationFailed``, ``ActionRequired``...) passes through
        for the caller to show; nothing is recorded then.
        """
        record = self.plugins.get(integration)
        info = record.info
        assert info is not None
        form = find_form(info, form_name)
        connection = self.connections.find(tenant.id, integration)
        if not is_shown(form, connection):
            verb = "reconnect" if connection is not None and connection.is_active else "connect"
            raise NotConnected(f"“{form.title}” needs a working {info.title} connection: {verb} {info.title} under "
                               "Settings > Integrations first.")
        clean = check_values(form, values)
        if not self.plugins.implements(integration, HOOK):
            raise PluginError(f"The {info.title} integration declares the form “{form.title}” but cannot act on it "
                              f"(it has no {HOOK} hook). Ask the site operator to update the plugin.",
                              code="card_form_unsupported", http_status=501)
        ctx = self.contexts(integration, tenant=tenant, connection=connection, base_url=base_url)
        result = self.plugins.call(integration, HOOK, ctx=ctx, tenant=tenant, connection=connection,
                                   form_name=form.name, values=clean)
        if not isinstance(result, CardFormResult):
            raise self.plugins.record_runtime_error(record, HOOK, TypeError(
                f"returned {type(result).__name__} for the form {form.name!r}; return core.CardFormResult"))
        with self.store.begin() as c:
            apply_effects(self, c, tenant_id=tenant.id, integration=integration, connection=connection,
                          effects=ctx.effects, actor=actor)
            write_audit(c, self.clock, action=f"card_form:{form.name}", actor=actor, tenant_id=tenant.id,
                        integration=integration)  # never the values: a form may carry anything
        return result
