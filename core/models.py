"""The host's vocabulary as attrs classes; ``core.converter`` turns them into JSON and rows.

Keyword-only and frozen: models are values passed between the host and plugins, never shared
mutable state.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

HOST_API_VERSION = "2.0"
"""The plugin API version this host implements; plugins declare what they need in ``requires_host``.

2.0: plugins get an ``IntegrationContext`` with services for their own integration, never the
``Host`` (``web_routes(ctx)``, ``dev_servers(ctx, base_url)``, ``resolve_tenant(request, tenants)``).
"""


class ConnectionState(enum.StrEnum):
    """Where a tenant's connection to an integration stands.

    ``pending`` → ``connected`` | ``action_required`` | ``needs_reauth`` | ``error`` → ``disconnected``.
    """

    PENDING = "pending"
    CONNECTED = "connected"
    ACTION_REQUIRED = "action_required"
    NEEDS_REAUTH = "needs_reauth"
    ERROR = "error"
    DISCONNECTED = "disconnected"


class Capability(enum.StrEnum):
    """What an integration can do; the settings page and the host read these."""

    CONNECT = "connect"
    STATUS = "status"
    WEBHOOKS = "webhooks"
    DOMAIN_EVENTS = "domain_events"
    DELIVERIES = "deliveries"
    ACTIONS = "actions"
    API_KEYS = "api_keys"


@attrs.frozen(kw_only=True)
class Choice:
    """One option of a select field: the ``value`` your hook receives, the ``label`` a creator reads."""

    value: str
    label: str


def _choices(values: Iterable[Choice | str]) -> tuple[Choice, ...]:
    """Plain strings are choices whose label is their value (``"usd"``)."""
    return tuple(v if isinstance(v, Choice) else Choice(value=v, label=v) for v in values)


def _fields(values: Iterable[Field]) -> tuple[Field, ...]:
    return tuple(values)  # a named converter, so type checkers see ``list[Field]`` is accepted


@attrs.frozen(kw_only=True)
class Field:
    """One input a creator fills in on a form: the connect form or one of the card's forms.

    With ``choices`` the page renders a select, and the host refuses any value not among them.
    """

    name: str
    label: str
    type: str = "text"
    secret: bool = False
    required: bool = False
    help: str = ""
    choices: Sequence[Choice] = attrs.field(factory=tuple, converter=_choices)


@attrs.frozen(kw_only=True)
class ConnectOption:
    """A way to connect, shown as its own button (Stripe: existing account / new account).

    The chosen option's ``name`` reaches the ``connect`` hook as ``form["option"]``.
    """

    name: str
    label: str
    help: str = ""


class FormWhen(enum.StrEnum):
    """When the page shows a :class:`CardForm`."""

    CONNECTED = "connected"
    """While the connection works (``connected`` or ``action_required``): most forms act at the provider."""
    ALWAYS = "always"


@attrs.frozen(kw_only=True)
class CardForm:
    """A form an integration puts on its card (Stripe: "Create a paid offer").

    The page renders ``fields`` under ``title``; a submission is checked (required fields, choices)
    and handed to the ``submit_card_form`` hook with ``name``. Declared in ``IntegrationInfo.card_forms``.
    ``listed=False`` keeps a form off the card: only the buttons on your table rows submit it
    (:class:`core.RowAction`, e.g. "Archive" on an offer).
    """

    name: str = attrs.field(validator=attrs.validators.matches_re(r"^[a-z][a-z0-9_-]*$"))
    title: str
    fields: Sequence[Field] = attrs.field(factory=tuple, converter=_fields)
    submit_label: str = "Submit"
    help: str = ""
    when: FormWhen = attrs.field(default=FormWhen.CONNECTED, converter=FormWhen)
    listed: bool = True


@attrs.frozen(kw_only=True)
class CardFormResult:
    """What ``submit_card_form`` returns: a ``message`` for the creator and, optionally, a link to follow.

    ``data`` describes what the form made, as JSON-able facts (the new offer's id and checkout link),
    for a host app that submits the form itself (``host.submit_card_form``) and keeps them; the
    settings page shows only the message and the link.
    """

    message: str
    link_url: str | None = None
    link_label: str | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict)


def _capabilities(values: Iterable[Capability]) -> frozenset[Capability]:
    return frozenset(values)


def _names(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _options(values: Iterable[ConnectOption]) -> tuple[ConnectOption, ...]:
    return tuple(values)


def _forms(values: Iterable[CardForm]) -> tuple[CardForm, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class IntegrationInfo:
    """An integration's declaration, returned by the ``integration_info`` hook."""

    name: str
    title: str
    description: str
    requires_host: str = "2.*"
    config: type[Any] | None = None
    capabilities: frozenset[Capability] = attrs.field(
        factory=lambda: frozenset({Capability.CONNECT, Capability.STATUS}), converter=_capabilities)
    connect_fields: Sequence[Field] = attrs.field(factory=tuple, converter=_fields)
    connect_options: Sequence[ConnectOption] = attrs.field(factory=tuple, converter=_options)
    observes: frozenset[str] = attrs.field(factory=frozenset, converter=_names)
    """Domain event types the ``on_domain_event`` hook wants; empty means none."""
    card_forms: Sequence[CardForm] = attrs.field(factory=tuple, converter=_forms)
    """Forms on the integration's card; submissions go to the ``submit_card_form`` hook."""
    version: str | None = None
    docs_url: str | None = None

    @property
    def connects_with_api_key(self) -> bool:
        """Creating the site's first API key is how it connects (Zapier): an integration with the
        ``connect`` and ``api_keys`` capabilities that asks for nothing else (no connect fields or
        options). The page then offers "Create API key" instead of a Connect button, and the first key
        runs your ``connect`` hook (with an empty form), which must return ``Connected``."""
        return ({Capability.CONNECT, Capability.API_KEYS} <= self.capabilities and not self.connect_fields
                and not self.connect_options)


@attrs.frozen(kw_only=True)
class ConnectionStatus:
    """A state with the human reason and, where there is one, where to fix it."""

    state: ConnectionState = attrs.field(converter=ConnectionState)
    reason: str = ""
    action_url: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Tenant:
    """A creator's site."""

    id: str
    name: str
    created_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Connection:
    """One tenant's connection to one integration. Secrets are never on this object."""

    id: str
    tenant_id: str
    integration: str
    state: ConnectionState = attrs.field(converter=ConnectionState)
    reason: str = ""
    action_url: str | None = None
    external_id: str | None = None
    livemode: bool | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def status(self) -> ConnectionStatus:
        return ConnectionStatus(state=self.state, reason=self.reason, action_url=self.action_url)

    @property
    def is_active(self) -> bool:
        """Whether the connection holds credentials (anything but pending or disconnected)."""
        return self.state not in (ConnectionState.PENDING, ConnectionState.DISCONNECTED)


def _no_secret_repr(value: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{k!r}: '***'" for k in value) + "}"


@attrs.frozen(kw_only=True)
class Connected:
    """Returned by ``connect`` / ``complete_connect`` when the connection is made.

    ``secrets`` are encrypted at rest and never shown; ``data`` is plain, non-secret detail.
    """

    external_id: str | None = None
    secrets: Mapping[str, str] = attrs.field(factory=dict, repr=_no_secret_repr)
    data: Mapping[str, Any] = attrs.field(factory=dict)
    livemode: bool | None = None
    status: ConnectionStatus | None = None


@attrs.frozen(kw_only=True)
class Redirect:
    """Returned by ``connect`` / ``complete_connect`` to send the creator elsewhere first.

    The host keeps ``state_data`` with the single-use connect state and hands it back to
    ``complete_connect`` when the creator returns.
    """

    url: str
    state_data: Mapping[str, Any] = attrs.field(factory=dict)
    state_ttl_seconds: int = attrs.field(default=600, validator=attrs.validators.in_(range(60, 7 * 86400 + 1)))
    """How long the creator may take before coming back: 10 minutes suits an OAuth consent screen;
    a provider's onboarding form (identity, bank account) may need hours."""


@attrs.frozen(kw_only=True)
class InboundRequest:
    """An inbound webhook request as received: the raw bytes, never a re-serialised body."""

    integration: str
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    headers: Mapping[str, str] = attrs.field(repr=False)
    content_type: str = ""


@attrs.frozen(kw_only=True)
class InboundEvent:
    """One event a ``verify_webhook`` hook found in a verified request.

    ``external_id`` is the provider's id (unique per integration); ``account`` routes the event
    to the connection whose ``external_id`` it is; ``payload`` is the parsed JSON.
    """

    external_id: str
    type: str
    payload: Mapping[str, Any] = attrs.field(repr=False)
    account: str | None = None
    livemode: bool | None = None
    occurred_at: datetime | None = None


class InboundStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


@attrs.frozen(kw_only=True)
class StoredEvent:
    """An inbound event as stored, handed to ``handle_event``."""

    id: str
    integration: str
    external_id: str
    type: str
    payload: Mapping[str, Any] = attrs.field(repr=False)
    account: str | None = None
    livemode: bool | None = None
    tenant_id: str | None = None
    status: InboundStatus = InboundStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    received_at: datetime | None = None
    processed_at: datetime | None = None


@attrs.frozen(kw_only=True)
class DomainEvent:
    """A fact in the platform's vocabulary (``purchase.completed``...), stable within a version."""

    id: str
    type: str
    tenant_id: str
    version: int
    data: Mapping[str, Any]
    occurred_at: datetime
    source: str | None = None
    """The integration (or ``host``) that produced it."""


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    CANCELLED = "cancelled"


@attrs.frozen(kw_only=True)
class Subscription:
    """A target that wants one type of domain event for one tenant (a Zapier REST hook...)."""

    id: str
    tenant_id: str
    integration: str
    event_type: str
    target_url: str
    filters: Mapping[str, Any] = attrs.field(factory=dict)
    created_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Delivery:
    """One outbox row: a signed POST of a payload to a target, retried until delivered or dead."""

    id: str
    tenant_id: str
    integration: str
    target_url: str
    event_type: str
    status: DeliveryStatus = attrs.field(converter=DeliveryStatus)
    attempts: int = 0
    subscription_id: str | None = None
    domain_event_id: str | None = None
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    delivered_at: datetime | None = None


class ObservationStatus(enum.StrEnum):
    PENDING = "pending"
    OBSERVED = "observed"
    SKIPPED = "skipped"
    FAILED = "failed"


@attrs.frozen(kw_only=True)
class Observation:
    """One observing plugin's turn at one domain event: ``on_domain_event`` runs in a worker after the
    event's transaction committed, retried with backoff until ``observed`` or ``failed``."""

    id: str
    domain_event_id: str
    tenant_id: str
    integration: str
    event_type: str
    status: ObservationStatus = attrs.field(converter=ObservationStatus)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ApiKey:
    """An API key's public face; the key itself is shown once, at creation, and stored hashed."""

    id: str
    tenant_id: str
    integration: str
    label: str
    prefix: str
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@attrs.frozen(kw_only=True)
class AuditEntry:
    id: str
    tenant_id: str | None
    integration: str | None
    action: str
    actor: str
    detail: Mapping[str, Any] = attrs.field(factory=dict)
    created_at: datetime | None = None
