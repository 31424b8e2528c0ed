"""Settings > Integrations: the server-rendered page and the form posts behind its buttons.

Every form posts to a route here (CSRF-checked by ``core.web.csrf``), which calls the same host
operations as the JSON API and answers with a redirect back to the page and a flash message (or
with a redirect to the provider, to connect). The flash is shown where the creator acted — inside the
card, the card form or the table section they used, with the field that was wrong marked — and the
redirect's ``#flash`` brings it into view. A new API key is the exception: it is rendered in the
response to the post itself, never stored in the session, so it is shown exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from core.errors import IntellectraError
from core.models import ApiKey, Tenant
from core.plugins import PluginRecord
from core.web.api import FLASH_KEY
from core.web.identity import current_tenant, host_of
from core.web.session import own_session
from core.web.settings_view import DETAILS_HOOK, Details, build_view, details_unavailable, plugin_details, wants_details
from core.web.signin import SETTINGS_PATH, login_url, signin_routes
from core.web.templating import STATIC_DIR, STATIC_PREFIX, render, root_path
from core.web.tenant_api import create_api_key, retry_delivery, revoke_api_key

Handler = Callable[[Request, Tenant], Awaitable[Response]]

HEADLINES = {
    "connected": "Connected",
    "action_required": "Connected, but action is required",
    "needs_reauth": "Connected, but it needs signing in again",
    "account_already_connected": "This account is connected to another site",
    "access_denied": "Nothing was connected",
    "invalid_grant": "That sign-in at the provider expired or was already used",
    "code_missing": "The provider sent you back without an answer",
    "connect_state_expired": "The connect link expired",
    "connect_state_used": "That connect link was already used",
    "disconnected": "Disconnected",
    "refreshed": "Status refreshed",
    "api_key_revoked": "API key revoked",
    "delivery_retried": "Delivery queued again",
}
KIND_HEADLINES = {"success": "Done", "warning": "Almost there", "error": "That did not work", "info": "Note"}


def flash(request: Request, kind: str, message: str, *, code: str = "", integration: str = "",
          link_url: str | None = None, link_label: str | None = None, form: str = "",
          values: Mapping[str, str] | None = None, headline: str = "", field: str = "", section: str = "") -> None:
    """Say what happened on the next page view, where it happened: in ``integration``'s card, its card
    form ``form`` or its table section ``section``; ``field`` is the input that was wrong. Optionally
    a link to follow, and (after a card form failed) the non-secret ``values`` to fill its fields with
    again. The headline follows ``code`` unless given."""
    own_session(request)[FLASH_KEY] = {"kind": kind, "message": message, "code": code, "integration": integration,
                                  "headline": headline,
                                  "link_url": link_url or "", "link_label": link_label or "", "form": form,
                                  "values": dict(values or {}), "field": field, "section": section}


def pop_flash(request: Request) -> dict[str, Any] | None:
    raw = own_session(request).pop(FLASH_KEY, None)
    if not isinstance(raw, dict) or not raw.get("message"):
        return None
    kind = raw.get("kind") if raw.get("kind") in KIND_HEADLINES else "info"
    code = str(raw.get("code") or "")
    kept = raw.get("values")
    values: dict[Any, Any] = kept if isinstance(kept, dict) else {}
    headline = str(raw.get("headline") or HEADLINES.get(code, KIND_HEADLINES[str(kind)]))
    return {"kind": str(kind), "message": str(raw["message"]), "code": code, "headline": headline,
            "integration": str(raw.get("integration", "")), "link_url": str(raw.get("link_url") or ""),
            "link_label": str(raw.get("link_label") or "Open"), "form": str(raw.get("form") or ""),
            "form_values": {str(k): str(v) for k, v in values.items()}, "field": str(raw.get("field") or ""),
            "field_error": str(raw["message"]), "section": str(raw.get("section") or "")}


DELIVERIES = "deliveries"
FLASH_ANCHOR = "flash"
"""Where every redirect after a post lands: the message itself, wherever on the page it is shown."""


def back(request: Request, anchor: str = FLASH_ANCHOR) -> Response:
    return RedirectResponse(f"{root_path(request)}{SETTINGS_PATH}{'#' + anchor if anchor else ''}", status_code=303)


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler`` for the signed-in tenant; send anyone else to the sign-in page."""

    async def endpoint(request: Request) -> Response:
        tenant = await current_tenant(request)
        if tenant is None:
            return RedirectResponse(login_url(request), status_code=303)
        return await handler(request, tenant)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _title(request: Request, name: str) -> str:
    record = host_of(request).plugins.records.get(name)
    return record.info.title if record and record.info else name


# ---------------------------------------------------------------------------- the page
async def settings_page(request: Request, tenant: Tenant, *, new_key: tuple[ApiKey, str] | None = None,
                        status_code: int = 200) -> Response:
    """The page: one card per integration, recent events, deliveries needing attention."""
    host = host_of(request)
    view = await run_in_threadpool(build_view, host, tenant, details=await card_details(request, tenant))
    return render(request, "settings.html", {
        "view": view, "tenant": tenant, "flash": pop_flash(request),
        "new_key": {"key": new_key[0], "plaintext": new_key[1]} if new_key else None,
    }, status_code=status_code)


async def card_details(request: Request, tenant: Tenant) -> dict[str, Details]:
    """Every plugin's ``card_details`` for this site, each on its plugin's lane, all at once (one slow
    provider then delays the page by its own time only, and never blocks the event loop)."""
    host = host_of(request)
    records = [r for r in host.plugins.records.values() if wants_details(host, r)]

    async def one(record: PluginRecord) -> Details:
        try:
            return await host.run_plugin_code(record.name, DETAILS_HOOK, plugin_details, host, record, tenant)
        except IntellectraError as exc:  # the lane was busy or the call ran out of time
            return details_unavailable(record, exc)

    answers = await asyncio.gather(*(one(record) for record in records))
    return {record.name: answer for record, answer in zip(records, answers, strict=True)}


async def show_settings(request: Request, tenant: Tenant) -> Response:
    return await settings_page(request, tenant)


async def connect(request: Request, tenant: Tenant) -> Response:
    """Connect: to the provider (303) when it needs the creator there, else back with the outcome."""
    host = host_of(request)
    name = request.path_params["name"]
    form = await _form(request)
    form.pop("csrf_token", None)
    try:
        outcome = await host.run_plugin_code(name, "connect", host.connect, tenant, name, form,
                                             actor=f"tenant:{tenant.id}")
    except IntellectraError as exc:
        flash(request, "error", exc.message, code=exc.code, integration=name, field=exc.field or "")
        return back(request)
    if outcome.redirect_url:
        return RedirectResponse(outcome.redirect_url, status_code=303)
    connection = outcome.connection
    assert connection is not None
    title = _title(request, name)
    if connection.state.value == "connected":
        flash(request, "success", f"{title} is connected.", code="connected", integration=name)
    else:
        flash(request, "warning", f"{title} is connected. {connection.reason}".strip(), code=connection.state.value,
              integration=name)
    return back(request)


async def confirm_disconnect(request: Request, tenant: Tenant) -> Response:
    """The confirmation step (a page of its own, so it works without JavaScript)."""
    name = request.path_params["name"]
    host = host_of(request)
    try:
        record = host.plugins.get(name)
    except IntellectraError as exc:
        flash(request, "error", exc.message, code=exc.code)
        return back(request)
    assert record.info is not None
    effects: list[str] = []
    if wants_details(host, record):
        try:
            found, _ = await host.run_plugin_code(name, DETAILS_HOOK, plugin_details, host, record, tenant)
        except IntellectraError:
            found = None
        effects = list(found.disconnect_effects) if found else []
    return render(request, "confirm_disconnect.html", {"tenant": tenant, "name": name, "title": record.info.title,
                                                        "effects": effects})


async def disconnect(request: Request, tenant: Tenant) -> Response:
    host = host_of(request)
    name = request.path_params["name"]
    try:
        connection = await host.run_plugin_code(name, "disconnect", host.disconnect, tenant, name,
                                                actor=f"tenant:{tenant.id}")
    except IntellectraError as exc:
        flash(request, "error", exc.message, code=exc.code, integration=name)
        return back(request)
    title = _title(request, name)
    message = f"{title} is disconnected." if connection is not None else f"{title} was not connected."
    if connection is not None and connection.reason and connection.reason != "Disconnected by the creator.":
        message = f"{title} is disconnected. {connection.reason}"
    flash(request, "success", message, code="disconnected", integration=name)
    return back(request)


async def refresh(request: Request, tenant: Tenant) -> Response:
    host = host_of(request)
    name = request.path_params["name"]
    try:
        connection = await host.run_plugin_code(name, "status", host.status, tenant, name, refresh=True)
    except IntellectraError as exc:
        flash(request, "error", exc.message, code=exc.code, integration=name)
        return back(request)
    title = _title(request, name)
    kind = "success" if connection.state.value == "connected" else "warning"
    flash(request, kind, f"{title}: {connection.reason or connection.state.value.replace('_', ' ')}",
          code="refreshed", integration=name)
    return back(request)


async def create_key(request: Request, tenant: Tenant) -> Response:
    """Create a key and show it in this response only (never stored, never shown again)."""
    host = host_of(request)
    name = request.path_params["name"]
    form = await _form(request)
    try:
        created = await create_api_key(host, tenant, name, form.get("label", ""))
    except IntellectraError as exc:
        flash(request, "error", exc.message, code=exc.code, integration=name)
        return back(request)
    return await settings_page(request, tenant, new_key=created, status_code=201)


async def revoke_key(request: Request, tenant: Tenant) -> Response:
    host = host_of(request)
    name = request.path_params["name"]
    try:
        key = await revoke_api_key(host, tenant, request.path_params["key_id"])
    except IntellectraError as exc:
        flash(request, "error", exc.message, code=exc.code, integration=name)
        return back(request)
    flash(request, "success", f"The key “{key.label}” ({key.prefix}…) no longer works.", code="api_key_revoked",
          integration=name)
    return back(request)


async def retry(request: Request, tenant: Tenant) -> Response:
    host = host_of(request)
    try:
        delivery = await run_in_threadpool(retry_delivery, host, tenant.id, request.path_params["id"])
    except IntellectraError as exc:
        flash(request, "error", exc.message, code=exc.code, section=DELIVERIES)
        return back(request)
    flash(request, "success", f"The {delivery.event_type} delivery will be sent again shortly.",
          code="delivery_retried", section=DELIVERIES)
    return back(request)


KEPT_VALUE_CHARS = 500
"""Values kept for refilling a form ride in the (size-limited) session cookie."""


def _kept_values(request: Request, name: str, form_name: str, values: Mapping[str, str]) -> dict[str, str]:
    """What the creator typed into a card form, minus secret fields, to fill it in again after an error."""
    record = host_of(request).plugins.records.get(name)
    forms = record.info.card_forms if record and record.info else ()
    fields = next((f.fields for f in forms if f.name == form_name), ())
    return {f.name: values[f.name][:KEPT_VALUE_CHARS] for f in fields if not f.secret and values.get(f.name)}


SECTION_FIELD = "_section"
"""A row action's post names the table section it came from, so its outcome is shown there."""


def _listed(request: Request, name: str, form_name: str) -> bool:
    record = host_of(request).plugins.records.get(name)
    forms = record.info.card_forms if record and record.info else ()
    return any(f.name == form_name and f.listed for f in forms)


async def submit_card_form(request: Request, tenant: Tenant) -> Response:
    """A form a plugin put on its card (or a row action submitting one): the plugin's answer (and its
    link) comes back as the flash, inside that form (or the section of the row).

    After an error the flash says what was wrong, the field it names is marked, and the form is
    filled in again with what was typed.
    """
    host = host_of(request)
    name, form_name = request.path_params["name"], request.path_params["form"]
    values = await _form(request)
    values.pop("csrf_token", None)
    section = values.pop(SECTION_FIELD, "")
    shown_in = {"form": form_name} if _listed(request, name, form_name) else {"section": section}
    try:
        result = await run_in_threadpool(host.submit_card_form, tenant, name, form_name, values,
                                         actor=f"tenant:{tenant.id}")
    except IntellectraError as exc:
        flash(request, "error", exc.message, code=exc.code, integration=name, link_url=exc.action_url,
              link_label=f"Manage in {_title(request, name)} dashboard" if exc.action_url else None,
              values=_kept_values(request, name, form_name, values), field=exc.field or "",
              headline=KIND_HEADLINES["error"], **shown_in)  # not the code's: "action_required" is not about connecting
        return back(request)
    flash(request, "success", result.message, code="card_form_submitted", integration=name,
          link_url=result.link_url, link_label=result.link_label, **shown_in)
    return back(request)


async def home(request: Request) -> Response:
    return RedirectResponse(f"{root_path(request)}{SETTINGS_PATH}", status_code=303)


def _route(path: str, handler: Handler, method: str) -> Route:
    return Route(path, signed_in(handler), methods=[method])


def page_routes(host: Any, *, own_sign_in: bool = True) -> list[BaseRoute]:
    """The page, its form posts, sign-in (unless the host app signs people in), and the static files
    (registered by ``create_app``)."""
    base = SETTINGS_PATH
    return [
        Route("/", home, methods=["GET"], include_in_schema=False),
        *(signin_routes() if own_sign_in else []),
        _route(base, show_settings, "GET"),
        _route(f"{base}/deliveries/{{id}}/retry", retry, "POST"),
        _route(f"{base}/{{name}}/connect", connect, "POST"),
        _route(f"{base}/{{name}}/disconnect", confirm_disconnect, "GET"),
        _route(f"{base}/{{name}}/disconnect", disconnect, "POST"),
        _route(f"{base}/{{name}}/refresh", refresh, "POST"),
        _route(f"{base}/{{name}}/api-keys", create_key, "POST"),
        _route(f"{base}/{{name}}/api-keys/{{key_id}}/revoke", revoke_key, "POST"),
        _route(f"{base}/{{name}}/forms/{{form}}", submit_card_form, "POST"),
        Mount(STATIC_PREFIX, app=StaticFiles(directory=STATIC_DIR), name="intellectra-static"),
    ]
