"""The plugin API: every hook an integration (or the host app) can implement.

These docstrings are the reference plugin authors read; ``docs/hooks.md`` is generated from them
(``intellectra-integrations docs hooks``) and a test fails when a hook is undocumented or the file is
stale.

Two kinds of hooks:

* **Addressed** hooks (``connect``, ``complete_connect``, ``disconnect``, ``status``,
  ``verify_webhook``, ``handle_event``, ``diagnostics``, ``submit_card_form``) are called for *one*
  integration: the host calls only the implementation of the plugin that owns it. Your plugin never
  sees another integration's calls, so it never needs to check a name.
* **Broadcast** hooks (``integration_info``, ``event_types``, ``on_domain_event``, ``web_routes``,
  ``dev_servers``, ``cli_commands``) reach every loaded plugin. Host-app hooks (``resolve_tenant``,
  ``perform_action``, ``observe_domain_event``) are the Intellectra host app's, registered with
  ``host.register_host_app`` (docs/host-app.md); the first two are answered by the first
  implementation that returns a value.

Plugins never get the ``Host``. Hooks that act for an integration get ``ctx``, a
:class:`core.IntegrationContext`: the plugin's config, the tenant and connection the call is
about, secrets, the clock, an HTTP client, effects the host applies with the hook's results, and
services limited to the plugin's own integration (API keys, subscriptions, rate limits, delivery
outcomes, missed-event intake, connections, tenant lookup); its reference follows the hooks.

Every hook may accept only the arguments it needs (pluggy matches them by name). A hook that
raises an exception other than an ``core.errors.IntellectraError`` is recorded against the plugin
(``plugins list``, ``health``, ``/healthz/details``) and never takes the host down; raise the ``IntellectraError``
subclasses (``ConnectError``, ``WebhookRejected``, ``ActionRequired``...) to tell the creator what
went wrong and what to do.
"""


from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from core.cards import CardDetails
    from core.context import IntegrationContext
    from core.devserver import DevServer
    from core.events import EventType, NewDomainEvent
    from core.models import (
        CardFormResult,
        Connected,
        Connection,
        ConnectionStatus,
        DomainEvent,
        InboundEvent,
        InboundRequest,
        IntegrationInfo,
        Redirect,
        StoredEvent,
        Tenant,
    )
    from core.tenants import TenantLookup

PROJECT_NAME = "intellectra"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

ADDRESSED_HOOKS = (
    "connect",
    "complete_connect",
    "disconnect",
    "status",
    "verify_webhook",
    "handle_event",
    "diagnostics",
    "submit_card_form",
)
"""Hooks the host calls for exactly one integration."""


@hookspec
def integration_info() -> IntegrationInfo:
    """Declare the integration this plugin provides.

    Called once when the plugin loads, before anything else. Return a
    :class:`core.IntegrationInfo` with:

    * ``name`` — the integration's id (``[a-z][a-z0-9_]*``); it must equal the name the plugin is
      registered under in ``registry.toml`` or its entry point name;
    * ``title`` and ``description`` — what the settings page shows on the card;
    * ``requires_host`` — the host API versions you support, e.g. ``"1.*"`` or ``">=1.0,<2"``; an
      incompatible host refuses the plugin with both versions in the message;
    * ``config`` — an attrs class for your ``[plugins.<name>.config]`` table (validated through
      cattrs; unknown keys are errors naming the key path; values ``env:NAME`` are read from the
      environment; use :class:`core.Secret` for secret values so they never print);
    * ``capabilities`` — what you implement (:class:`core.Capability`);
    * ``connect_fields`` — the :class:`core.Field` inputs a creator fills in to connect (the
      page renders them; secret fields are never echoed back);
    * ``connect_options`` — several ways to connect, one button each (:class:`core.ConnectOption`);
    * ``observes`` — the domain event types your ``on_domain_event`` wants;
    * ``card_forms`` — forms the page shows on your card (:class:`core.CardForm`), e.g. "Create a
      paid offer"; their submissions reach ``submit_card_form``.

    Must not do I/O. Raising here marks the plugin failed.
    """


@hookspec
def event_types() -> Sequence[EventType]:
    """Declare the domain event types your plugin adds to the platform's vocabulary (broadcast).

    Called once when the plugin loads, after ``integration_info`` and its config are checked. Return a list of
    :class:`core.EventType`, one per type your handlers emit that core does not already have:

    * ``name`` — dotted lowercase words; start it with your integration's name
      (``acme_pay.sale_held``) so it cannot collide with anyone else's;
    * ``title`` and ``description`` — what creators and operators read (Zapier shows the title as
      "New <title>");
    * ``version`` — the payload schema's version, starting at 1. Within a version fields are only
      ever added (with defaults); renaming or removing one is a new version;
    * ``schema`` — the attrs class of the payload; every emitted event is validated against it
      (payloads are converted with cattrs, so use JSON-able field types);
    * ``example`` — a payload that fits the schema, listing every field: trigger samples show it
      before a site has real events, and docs are generated from it.

    The host assembles the deployment's catalogue from core's types and every plugin's: your types
    are then accepted by ``host.emit``, by ``NewDomainEvent`` results of ``handle_event``, by
    subscriptions (Zapier offers one trigger per type) and listed by
    ``intellectra-integrations events types``. Core's vocabulary (``purchase.completed``,
    ``dispute.opened``, ``member.created``...) is not yours to declare: emit it with core's schema.
    A name another plugin (or core) already declares, an invalid name or an example that does not
    fit the schema fails *your* plugin with the reason in ``plugins list``; the owner keeps the type
    and the host keeps running. Must not do I/O. Return ``[]`` (or leave the hook out) if your
    plugin only emits core's types.
    """


@hookspec
def connect(
    ctx: IntegrationContext, tenant: Tenant, form: Mapping[str, str], state: str
) -> Connected | Redirect:
    """Start connecting ``tenant`` to your integration (addressed).

    Called when a creator presses Connect. ``form`` holds the submitted ``connect_fields`` (and
    ``option``, the chosen :class:`core.ConnectOption` name, if you declared options). ``state`` is a
    fresh, single-use, tenant-bound token the host created for this attempt.

    Return :class:`core.Connected` when the connection is made right away (an API key that you
    validated, a webhook URL that answered a test call): its ``secrets`` are encrypted at rest, ``data`` is
    stored as plain detail, ``external_id`` (the provider's account id) must be unique across
    tenants for your integration. Return :class:`core.Redirect` to send the creator to the
    provider first (OAuth, onboarding): put ``state`` in the provider's return URL
    (``ctx.callback_url(state=state)``); the host keeps ``Redirect.state_data`` and hands it to
    ``complete_connect``.

    Make such calls with ``ctx.http`` only: a URL a creator typed is untrusted, and ``ctx.http``
    refuses (with ``httpx.ConnectError``, before sending anything) any URL whose host is or
    resolves to a loopback, private, link-local or cloud-metadata address; development mode allows
    loopback. Raise :class:`core.ConnectError` with a message the creator can act on when the input
    is wrong, the address is refused or the provider refuses. Nothing is stored when you raise.
    """


@hookspec
def complete_connect(
    ctx: IntegrationContext,
    tenant: Tenant,
    params: Mapping[str, str],
    state_data: Mapping[str, Any],
    state: str,
) -> Connected | Redirect:
    """Finish a connect when the creator comes back to ``/integrations/<name>/callback`` (addressed).

    The host has already checked ``state``: it existed, was issued to this ``tenant`` for your
    integration, has not expired and is consumed now (a replay never reaches you); the ``state``
    argument is a *fresh* one for a new :class:`core.Redirect`. ``params`` are
    the callback's query parameters (e.g. ``code`` or ``error``); ``state_data`` is what your
    ``connect`` put in its :class:`core.Redirect`.

    Return :class:`core.Connected` to store the connection, or a new :class:`core.Redirect` (with
    ``ctx.callback_url(state=state)`` — the host issues a fresh state for it) when the creator must
    go back to the provider (an expired onboarding link). Raise :class:`core.ConnectError` for a
    refusal (``access_denied``), a reused code, or a provider outage: the message is shown on the
    settings page and no connection is stored.
    """


@hookspec
def disconnect(ctx: IntegrationContext, tenant: Tenant, connection: Connection) -> None:
    """Disconnect ``tenant`` from your integration (addressed).

    ``connection`` is the stored connection (its ``external_id`` and ``data``; read its secrets with
    ``ctx.secret(name)`` — they are still available during this call). Revoke what you can at the
    provider (deauthorize an OAuth grant, delete a webhook). The host then forgets the credentials,
    marks the connection ``disconnected``, writes the audit record and emits
    ``integration.disconnected``. Must be harmless when the provider already forgot the connection;
    raise :class:`core.ConnectError` only when the creator must do something. If you raise, the host
    still disconnects locally and records your error.
    """


@hookspec
def status(
    ctx: IntegrationContext, tenant: Tenant, connection: Connection, refresh: bool
) -> ConnectionStatus:
    """Report the state of ``tenant``'s connection (addressed).

    ``connection`` is the stored connection. With ``refresh`` false answer from what is stored
    (``connection.data``) without I/O; with ``refresh`` true ask the provider. Return a
    :class:`core.ConnectionStatus`: ``connected``, ``action_required`` (connected, but the provider
    needs something from the creator), ``needs_reauth`` (credentials revoked or expired) or
    ``error``, each with a ``reason`` a creator understands and, where there is one, an
    ``action_url`` where it can be fixed. Read secrets with ``ctx.secret(name)``. The host stores
    what you return.
    """


@hookspec
def verify_webhook(ctx: IntegrationContext, request: InboundRequest) -> Sequence[InboundEvent]:
    """Verify an inbound webhook to ``POST /webhooks/<name>`` and parse its events (addressed).

    Called on the intake hot path with the raw body bytes exactly as received — verify the
    signature over ``request.body``, never over re-serialised JSON. Return one
    :class:`core.InboundEvent` per event in the request (usually one) with the provider's event id
    as ``external_id`` (the host stores each once per integration; duplicates are acknowledged and
    dropped), ``account`` (the provider account id that routes the event to a tenant's
    connection), ``livemode`` and the parsed ``payload``.

    Raise :class:`core.WebhookRejected` (``http_status`` 400 or 401) for a bad or missing
    signature, a timestamp outside the tolerance or a malformed body; nothing is stored. Keep it
    fast: no network, no database. It runs on your plugin's own threads (like every hook a web
    request reaches), so a slow verification holds up only your webhooks; one that takes longer
    than the host's budget (``INTELLECTRA_PLUGIN_TIMEOUT``) is answered 504 and recorded against
    your plugin, and the sender retries.
    """


@hookspec
def handle_event(ctx: IntegrationContext, event: StoredEvent) -> Sequence[NewDomainEvent] | None:
    """Process one stored inbound event (addressed), in a worker.

    ``ctx.tenant`` and ``ctx.connection`` are the tenant and connection the event was routed to
    (``None`` when no connection owns ``event.account``). Return the domain events it means
    (:class:`core.NewDomainEvent`, e.g. ``purchase.completed``); change the connection with
    ``ctx.set_status(...)`` or ``ctx.mark_disconnected(reason)``. The host applies all of it, marks
    the event processed and writes one outbox delivery per matching subscription in *one*
    transaction, so a crash never half-applies an event.

    Events can arrive late, twice or out of order: re-fetch the object from the provider or compare
    timestamps instead of trusting order. Raise to have the event retried with backoff; after the
    last attempt it is ``failed`` and can be replayed. Raise :class:`core.IgnoreEvent` to
    acknowledge an event you deliberately do not apply (e.g. test mode on a live connection); the
    reason is stored.
    """


@hookspec
def on_domain_event(ctx: IntegrationContext, event: DomainEvent) -> None:
    """Observe a domain event of a tenant connected to your integration (broadcast).

    ``event`` is the stored :class:`core.DomainEvent` (``type``, ``version``, ``data`` in the type's
    versioned schema, ``tenant_id``, ``occurred_at``); ``ctx.tenant`` and ``ctx.connection`` are the
    tenant and its connection to your integration as they are now. Called for event types listed in
    your ``IntegrationInfo.observes``, for tenants whose connection to your integration was active
    when the event was written and still is.

    When: in a worker, *after* the transaction that wrote the event has committed, with no
    transaction open, so whoever emitted the event (a creator's click, the host app, a webhook's
    handler) never waits for you, however long you take. If you raise (anything, an
    ``IntellectraError`` included) the error is recorded against your plugin (``plugins list``,
    ``/healthz``) and on the observation, and you are called again with backoff; after the last
    attempt the observation is ``failed`` and an operator can replay it (``observations replay``).
    You may therefore see one event more than once: stay idempotent.

    Send things out through ``ctx.deliver(to=url, json=payload)``: the host writes the deliveries
    with the observation's outcome, and its outbox signs, retries and records each one, so never make
    HTTP calls here yourself.
    """


@hookspec
def web_routes(ctx: IntegrationContext) -> Sequence[BaseRoute]:
    """Contribute Starlette routes to the host's web app (broadcast).

    Return a list of ``starlette.routing.Route`` / ``Mount``. Mount your API under
    ``/api/<name>/...`` and pages under ``/integrations/<name>/...``. ``ctx`` is your integration's
    context, bound to no tenant: keep it in your handlers' closure. In a handler,
    ``await ctx.for_request(request)`` gives the context of the tenant the request acts for (a 401
    that says how to sign in when there is none), ``await ctx.tenant_of(request)`` just the tenant
    (or ``None``), and ``ctx.for_tenant(tenant)`` the context of a tenant you identified yourself
    (e.g. from an API key: ``ctx.api_keys.authenticate(key)``). Raise
    :class:`core.IntellectraError` subclasses in handlers; the host renders them as
    ``{"error": {"code", "message"}}``. To limit how often a key may call you, use
    ``ctx.rate_limits.hit(key_id, per_minute=N)`` (0, or the seconds for ``Retry-After``): the
    count is in the database, so it holds across every ``serve`` process. The context's services
    (and your provider's API) do blocking I/O: call them with ``await ctx.run_in_threadpool(fn, ...)``
    from async handlers, never directly. It runs them on your plugin's own threads, with the host's
    time budget, so a slow call holds up only your routes; Starlette's ``run_in_threadpool`` would
    take threads the whole server shares.
    """


@hookspec
def dev_servers(ctx: IntegrationContext, base_url: str) -> Sequence[DevServer]:
    """Start development stand-ins for your provider (broadcast; ``serve --sandbox`` only).

    Called while your plugin loads, so ``ctx.config`` is still ``None`` (the servers' overrides
    become part of it). Start each server (on 127.0.0.1) and return a
    :class:`core.DevServer` with its URL, a ``stop`` callable, and ``config_overrides`` the host
    applies to your config so the plugin talks to it. ``base_url`` is where the host serves (e.g.
    for webhook targets: ``f"{base_url}/webhooks/<name>"``). Return ``[]`` if you have none.
    """


@hookspec
def cli_commands(cli: click.Group) -> None:
    """Add commands to the ``intellectra-integrations`` CLI (broadcast).

    Add a ``click`` group or command to ``cli`` (e.g. ``zapier keys create``). Inside a command,
    ``core.cli.plugin_context(click_context, "<name>")`` is your integration's context
    (``.for_tenant(tenant_id)`` binds it to a site; an unknown id becomes one clear error line);
    print listings with ``core.cli.output.emit_listing`` / ``json_option`` (tables for people,
    ``--json`` for machines); never print secrets except a credential at the moment it is created.
    """


@hookspec
def diagnostics(ctx: IntegrationContext, tenant: Tenant, connection: Connection) -> Mapping[str, Any]:
    """Return non-secret facts that help support a tenant's connection (addressed).

    Called when an operator asks for a connection's details (``connections status --json``), with
    the ``tenant`` and its stored ``connection``; ``ctx`` gives you config and secrets if you need
    to ask the provider. Return a JSON-able mapping (account ids, capabilities, last sync time,
    API version...). Never include secrets or tokens. Exceptions are recorded like any hook's.
    """


@hookspec
def submit_card_form(
    ctx: IntegrationContext,
    tenant: Tenant,
    connection: Connection | None,
    form_name: str,
    values: Mapping[str, str],
) -> CardFormResult:
    """Act on a submission of one of your card forms (addressed).

    Called when a creator submits a :class:`core.CardForm` you declared in
    ``IntegrationInfo.card_forms`` — from the settings page
    (``POST /settings/integrations/<name>/forms/<form>``) or the tenant API
    (``POST /api/integrations/<name>/forms/<form>``). ``tenant`` is the site it is for;
    ``connection`` is its stored connection to your integration (``None`` only for a form declared
    with ``when="always"`` on a site that never connected; a ``when="connected"`` form is only ever
    submitted while the connection is ``connected`` or ``action_required``). ``form_name`` is the
    form's ``name``. ``values`` maps each declared field's ``name`` to its submitted text, already
    checked by the host: whitespace stripped, required fields present, select values among their
    ``choices``, undeclared fields dropped, empty optional fields left out.

    Return a :class:`core.CardFormResult`: a ``message`` saying what happened (shown as the page's
    flash message, or returned as JSON) and, optionally, ``link_url`` and ``link_label`` for where to
    go next (Stripe: the new offer's checkout link), and ``data``: what you made, as JSON-able facts
    (ids, URLs) for a host app that submits your form itself and keeps them (Stripe: the offer).
    Document its keys, they are an API. Parse and check the values yourself where the
    host cannot (a price, a date) and raise :class:`core.ValidationFailed` with a message that names
    the field and says what to enter; raise :class:`core.ActionRequired` (with ``action_url``) when
    the provider needs something from the creator first. Both reach the creator as an error message
    with nothing done. Read secrets with ``ctx.secret(name)``; ``ctx.set_status`` and
    ``ctx.update_data`` are applied to the connection after you return.
    """


@hookspec
def card_details(ctx: IntegrationContext) -> CardDetails | None:
    """Say more on your card of the settings page, for the site the page is shown to (addressed).

    Called on every view of Settings > Integrations, on your plugin's own threads, with ``ctx`` bound
    to the site (``ctx.tenant``) and its connection to your integration (``ctx.connection``, ``None``
    when the site never connected). Return a :class:`core.CardDetails` — plain data the host renders
    the same accessible way for every plugin: who is connected (``identity``: account, Test or Live,
    since when, what works), what the creator must still do (``needs``, one plain item each), buttons
    (``actions``: e.g. "Finish setup" posting to one of your ``web_routes``), numbered set-up
    ``steps`` and ``links``, titled ``sections`` with facts and tables (offers with a copy-link
    button and an Archive row action, payouts, disputes...), forms to lock and why
    (``locked_forms``), and what stops on disconnecting (``disconnect_effects``). Return ``None`` to
    add nothing. Keep it quick (the page waits for it) and never put secrets in it. An
    :class:`core.IntellectraError` (e.g. your provider did not answer) shows its message on your card;
    the rest of the page renders either way.
    """


@hookspec(firstresult=True)
def resolve_tenant(request: Request, tenants: TenantLookup) -> Tenant | None:
    """Tell the host which tenant a web request acts for (host app; first answer wins).

    ``request`` is the Starlette request (headers, cookies, ``request.session``); ``tenants`` looks
    tenants up read-only (``tenants.find(tenant_id)``, ``tenants.by_token(token)``). The Intellectra
    host app implements this to map its own session to a tenant. Return ``None`` when the request is
    not yours to identify; the standalone server's built-in implementation (bearer tokens for the
    API, a signed session cookie for the page) answers last.
    """


@hookspec(firstresult=True)
def perform_action(tenant: Tenant, action: str, input: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Carry out an action a connected app asked for, e.g. Zapier's ``enroll_member`` (host app).

    ``tenant`` is the site the action is for (authenticated by the integration, e.g. by its Zapier
    API key); ``action`` is the action's name; ``input`` is already validated by the integration
    that received it. Return a JSON-able mapping
    describing the result (it is shown to the user, e.g. in the Zap editor), or ``None`` if this
    host does not support ``action`` (the caller answers 501). Raise
    :class:`core.ValidationFailed` for input the host app rejects (unknown course...).
    """


@hookspec
def observe_domain_event(tenant: Tenant, event: DomainEvent) -> None:
    """React to a domain event of any tenant, e.g. enroll the buyer of a ``purchase.completed`` (host app).

    Called for the event types the host app named in ``host.register_host_app(hooks, observes={...})``,
    for every tenant (unlike a plugin's ``on_domain_event``, no connection is needed). ``tenant`` is
    the tenant the event belongs to; ``event`` is the stored :class:`core.DomainEvent` (``type``,
    ``version``, ``data`` in the type's versioned schema, ``occurred_at``, ``source``).

    When: in the host's workers, *after* the transaction that wrote the event has committed, with no
    transaction open: open your own (``with host.engine.begin() as conn``) and emit what you write
    in it (``host.emit(..., conn=conn)``). If you raise, the error is recorded (on the observation,
    listed by ``intellectra-integrations observations list`` as integration ``(host app)``) and you
    are called again with backoff; after the last attempt the observation is ``failed`` and an
    operator can replay it (``observations replay``). You may see one event more than once: stay
    idempotent (check whether you already did it, under a unique constraint).
    """
