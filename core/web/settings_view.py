"""What the Settings > Integrations page shows, computed from the host for one tenant.

Plain data for the templates (no markup here): one card per integration — loaded ones with their
connection state, the actions that make sense in it and what the plugin's ``card_details`` hook adds
(who is connected, what is still needed, offers, payouts...), failed ones saying only that the
integration is unavailable (the cause is for the site operator: ``plugins list``, the log) — plus
recent events and the deliveries that need attention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs

from core.card_forms import is_shown
from core.cards import CardDetails, Fact, Tone
from core.errors import IntellectraError, PluginError
from core.host import Host
from core.models import (
    ApiKey,
    Capability,
    CardForm,
    ConnectionState,
    ConnectOption,
    Delivery,
    DomainEvent,
    Field,
    Tenant,
)
from core.plugins import PluginRecord, PluginState
from core.web.tenant_api import FAILING, deliveries_of, recent_events, subscriptions_of

NOT_CONNECTED = "not_connected"
STATE_LABELS = {
    ConnectionState.CONNECTED.value: "Connected",
    ConnectionState.ACTION_REQUIRED.value: "Action required",
    ConnectionState.NEEDS_REAUTH.value: "Needs re-authentication",
    ConnectionState.ERROR.value: "Error",
    ConnectionState.DISCONNECTED.value: "Disconnected",
    ConnectionState.PENDING.value: "Connecting",
    NOT_CONNECTED: "Not connected",
}
STATE_TONES = {
    ConnectionState.CONNECTED.value: Tone.GOOD,
    ConnectionState.ACTION_REQUIRED.value: Tone.WARNING,
    ConnectionState.PENDING.value: Tone.WARNING,
    ConnectionState.NEEDS_REAUTH.value: Tone.BAD,
    ConnectionState.ERROR.value: Tone.BAD,
}
RECONNECT_STATES = {ConnectionState.NEEDS_REAUTH.value, ConnectionState.ERROR.value}
DETAILS_HOOK = "card_details"
EVENTS_SHOWN = 15
DELIVERIES_SHOWN = 20


@attrs.frozen(kw_only=True)
class SubscriptionRow:
    id: str
    event_type: str
    event_title: str
    target_host: str
    created_at: Any


@attrs.frozen(kw_only=True)
class Card:
    name: str
    title: str
    description: str
    state: str
    state_label: str
    tone: str = Tone.NEUTRAL.value
    reason: str = ""
    dashboard_url: str | None = None
    docs_url: str | None = None
    connect_fields: Sequence[Field] = ()
    connect_options: Sequence[ConnectOption] = ()
    can_connect: bool = False
    connect_label: str = "Connect"
    can_disconnect: bool = False
    can_refresh: bool = False
    forms: Sequence[CardForm] = ()
    """The plugin's card forms that apply in the connection's state."""
    uses_api_keys: bool = False
    api_keys: Sequence[ApiKey] = ()
    subscriptions: Sequence[SubscriptionRow] = ()
    failed: bool = False
    details: CardDetails | None = None
    details_error: str = ""
    """Said on the card when the plugin could not say more just now (its provider did not answer)."""

    @property
    def actions(self) -> Sequence[Any]:
        return self.details.actions if self.details else ()

    @property
    def header_facts(self) -> Sequence[Fact]:
        """Badges beside the state: the identity facts a plugin marked as the card's mode (Test / Live)."""
        return [f for f in (self.details.identity if self.details else ()) if f.label == MODE_LABEL]

    @property
    def revoke_effect(self) -> str:
        return self.details.revoke_effect if self.details else ""

    @property
    def disconnect_effects(self) -> Sequence[str]:
        return self.details.disconnect_effects if self.details else ()


MODE_LABEL = "Mode"
"""An identity fact with this label (``Fact(label="Mode", value="Test mode")``) also shows as a badge."""


@attrs.frozen(kw_only=True)
class EventRow:
    id: str
    type: str
    title: str
    summary: str
    occurred_at: Any
    source: str | None


@attrs.frozen(kw_only=True)
class DeliveryRow:
    id: str
    event_type: str
    integration: str
    target_host: str
    status: str
    attempts: int
    last_error: str
    last_status_code: int | None
    next_attempt_at: Any


@attrs.frozen(kw_only=True)
class SettingsView:
    tenant: Tenant
    cards: Sequence[Card]
    events: Sequence[EventRow]
    deliveries: Sequence[DeliveryRow]
    deliveries_error: str | None = None


def target_host(url: str) -> str:
    """Only the host of a target: webhook URLs are often capability URLs and must not be shown whole."""
    return urlsplit(url).hostname or "(unknown)"


def event_title(host: Host, event_type: str) -> str:
    """The catalogue's title; the bare name for a type no loaded plugin declares any more."""
    spec = host.event_types.get(event_type)
    return spec.title if spec is not None else event_type


Details = tuple[CardDetails | None, str]
"""A plugin's ``card_details`` answer, or ``None`` and what the card says instead."""


def wants_details(host: Host, record: PluginRecord) -> bool:
    return (not record.builtin and record.state is PluginState.LOADED and record.info is not None
            and host.plugins.implements(record.name, DETAILS_HOOK))


def plugin_details(host: Host, record: PluginRecord, tenant: Tenant) -> Details:
    """The plugin's ``card_details`` for this site, or why there are none (never an exception: the
    page renders whatever one plugin does). Blocking: call it on the plugin's lane."""
    title = record.info.title if record.info else record.name
    connection = host.connections.find(tenant.id, record.name)
    ctx = host.context(record.name, tenant=tenant, connection=connection)
    try:
        details = host.plugins.call(record.name, DETAILS_HOOK, ctx=ctx)
    except PluginError:  # a bug, recorded against the plugin by the call (operators read it there)
        return None, f"{title} could not show everything right now; try again in a moment."
    except IntellectraError as exc:  # said on purpose, for the creator (its provider did not answer...)
        return None, f"{title} could not show everything right now ({exc.message})"
    if details is not None and not isinstance(details, CardDetails):
        host.plugins.record_runtime_error(record, DETAILS_HOOK, TypeError(
            f"returned {type(details).__name__}; return core.CardDetails"))
        return None, ""
    return details, ""


def details_unavailable(record: PluginRecord, exc: IntellectraError) -> Details:
    """What the card says when the plugin's lane was too busy or too slow to answer in time."""
    title = record.info.title if record.info else record.name
    return None, f"{title} could not show everything right now ({exc.message})"


def card_for(host: Host, tenant: Tenant, record: PluginRecord, *, details: Details = (None, "")) -> Card:
    info = record.info
    assert info is not None
    connection = host.connections.find(tenant.id, record.name)
    state = connection.state.value if connection else NOT_CONNECTED
    can_connect_at_all = Capability.CONNECT in info.capabilities
    active = connection is not None and connection.is_active
    api = Capability.API_KEYS in info.capabilities
    keys = host.api_keys.list(tenant.id, integration=record.name) if api else []
    subs = [SubscriptionRow(id=s.id, event_type=s.event_type, event_title=event_title(host, s.event_type),
                            target_host=target_host(s.target_url), created_at=s.created_at)
            for s in (subscriptions_of(host, tenant.id, record.name) if api else [])]
    if connection is None and not can_connect_at_all and api:
        state, label = ("connected", f"{len(keys)} active key{'s' if len(keys) != 1 else ''}") if keys else (
            NOT_CONNECTED, "Not set up")
    else:
        label = STATE_LABELS.get(state, state)
    tone = STATE_TONES.get(state, Tone.NEUTRAL)
    found, details_error = details
    if found is not None and found.label:
        label, tone = found.label, found.tone
    return Card(
        name=record.name, title=info.title, description=info.description, state=state, state_label=label,
        tone=tone.value, reason=connection.reason if connection else "",
        dashboard_url=connection.action_url if connection else None,
        docs_url=info.docs_url if (info.docs_url or "").startswith(("https://", "http://")) else None,
        connect_fields=info.connect_fields, connect_options=info.connect_options,
        can_connect=can_connect_at_all and not info.connects_with_api_key and (not active or state in RECONNECT_STATES),
        connect_label="Reconnect" if state in RECONNECT_STATES else "Connect",
        can_disconnect=active, can_refresh=active and Capability.STATUS in info.capabilities,
        forms=[form for form in info.card_forms if form.listed and is_shown(form, connection)],
        uses_api_keys=api and (active or not can_connect_at_all or info.connects_with_api_key), api_keys=keys,
        subscriptions=subs,
        details=found, details_error=details_error,
    )


def failed_card(record: PluginRecord) -> Card:
    """Only that the integration is unavailable: the cause (module names, operator steps) is for the
    site operator, who reads it in ``plugins list`` and the log."""
    title = record.info.title if record.info else record.name.replace("_", " ").title()
    return Card(name=record.name, title=title, description=record.info.description if record.info else "",
                state="failed", state_label="Unavailable", tone=Tone.BAD.value, failed=True)


def summarize(event: DomainEvent, titles: Mapping[str, str]) -> str:
    """One line a creator understands, for the common events; the fields for the rest."""
    data = event.data
    if event.type.startswith("integration."):
        name = str(data.get("integration", ""))
        return f"{titles.get(name, name)}: {data.get('reason', '')}".strip()
    if "amount" in data and "currency" in data:
        amount = f"{int(data['amount']) / 100:,.2f} {str(data['currency']).upper()}"
        what = data.get("offer_title") or data.get("payout_id") or data.get("dispute_id") or ""
        who = data.get("buyer_email")
        return " · ".join(str(p) for p in (what, amount, who) if p)
    simple = [f"{k}: {v}" for k, v in data.items() if isinstance(v, str | int | float) and not isinstance(v, bool)]
    return ", ".join(simple[:3])


def event_rows(host: Host, tenant: Tenant) -> list[EventRow]:
    titles = {r.name: r.info.title for r in host.plugins.loaded() if r.info}
    return [EventRow(id=e.id, type=e.type, title=event_title(host, e.type),
                     summary=summarize(e, titles), occurred_at=e.occurred_at, source=e.source)
            for e in recent_events(host, tenant.id, limit=EVENTS_SHOWN)]


def delivery_rows(found: Sequence[Delivery]) -> list[DeliveryRow]:
    return [DeliveryRow(id=d.id, event_type=d.event_type, integration=d.integration,
                        target_host=target_host(d.target_url), status=d.status.value, attempts=d.attempts,
                        last_error=d.last_error or "", last_status_code=d.last_status_code,
                        next_attempt_at=d.next_attempt_at) for d in found]


def build_view(host: Host, tenant: Tenant, *, details: Mapping[str, Details] | None = None) -> SettingsView:
    """The page's data; ``details`` are the plugins' ``card_details`` answers, fetched beforehand on
    each plugin's own lane (``wants_details`` / ``plugin_details``)."""
    found = details or {}
    cards: list[Card] = []
    for record in host.plugins.records.values():
        if record.builtin:
            continue
        if record.state is PluginState.LOADED and record.info is not None:
            cards.append(card_for(host, tenant, record, details=found.get(record.name, (None, ""))))
        elif record.state is PluginState.FAILED:
            cards.append(failed_card(record))
    deliveries_error = None
    try:
        deliveries = delivery_rows(deliveries_of(host, tenant.id, status=FAILING, limit=DELIVERIES_SHOWN))
    except Exception as exc:  # the page must render even if the pipeline is unavailable
        deliveries, deliveries_error = [], f"Deliveries are unavailable right now ({exc.__class__.__name__})."
    return SettingsView(tenant=tenant, cards=cards, events=event_rows(host, tenant), deliveries=deliveries,
                        deliveries_error=deliveries_error)
