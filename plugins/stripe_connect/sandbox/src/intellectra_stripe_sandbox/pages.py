"""Server-rendered HTML: rendering helpers, account onboarding (account links) and the account dashboard.

Every page extends ``base.html`` with the "Stripe sandbox — not Stripe" banner; forms post without
JavaScript; buttons and fields have stable ids so browser tests can click through.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from . import ids
from .access import deauthorize
from .accounts import change_account, derive_status, mark_pending, mark_verified
from .api import sandbox_of
from .state import OnboardingSession

_ENV = Environment(loader=PackageLoader(__package__, "templates"), autoescape=select_autoescape(["html"]))


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    html = _ENV.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, message: str, *, status: int = 400) -> HTMLResponse:
    """What Stripe shows instead of redirecting when the request itself cannot be trusted."""
    return render(request, "message.html", status=status, title="Something went wrong", message=message, error=True)


async def form_data(request: Request) -> dict[str, str]:
    """A urlencoded HTML form as a flat dict (last value wins)."""
    return dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))


# -- onboarding (account links) ----------------------------------------------------------------------------------
async def onboarding_link(request: Request) -> Response:
    """``GET /setup/s/{account}/{token}``: an account link; used or expired → redirect to ``refresh_url``."""
    sandbox = sandbox_of(request)
    with sandbox.lock:
        link = sandbox.account_links.get(request.path_params["token"])
        if link is None or link.account != request.path_params["account"]:
            return error_page(request, "This link is invalid.", status=404)
        if link.used or sandbox.now() >= link.expires_at:
            if link.refresh_url:
                return RedirectResponse(link.refresh_url, status_code=302)
            return error_page(request, "This link has expired. Ask the platform for a new one.", status=410)
        link.used = True
        session = OnboardingSession(
            id=ids.random_part(24), account=link.account, livemode=link.livemode, return_url=link.return_url
        )
        sandbox.onboarding[session.id] = session
        account = sandbox.accounts[link.account]
    return render(
        request,
        "onboarding.html",
        session=session,
        account=account,
        platform_name=sandbox.platform_name,
        link_type=link.type,
    )


async def onboarding_submit(request: Request) -> Response:
    """``POST /setup/session/{id}``: apply the submitted details, then redirect to ``return_url``."""
    sandbox = sandbox_of(request)
    form = await form_data(request)
    with sandbox.lock:
        session = sandbox.onboarding.get(request.path_params["session_id"])
        if session is None or session.done:
            return error_page(request, "This onboarding session is over. Ask the platform for a new link.")
        session.done = True
        action = form.get("action", "verify")
        now = sandbox.now()

        def mutate(account: dict[str, Any]) -> None:
            _apply_form(account, form)
            if action == "verify":
                mark_verified(account, now)
            elif action == "pending":
                mark_pending(account, now)
            else:  # "save": details entered but not submitted
                derive_status(account)

        change_account(sandbox, session.account, mutate)
    if session.return_url:
        return RedirectResponse(session.return_url, status_code=303)
    return render(request, "message.html", title="Done", message="You can close this page.")


def _apply_form(account: dict[str, Any], form: dict[str, str]) -> None:
    if form.get("business_name"):
        account["business_profile"]["name"] = form["business_name"]
        account["settings"]["dashboard"]["display_name"] = form["business_name"]
    if form.get("url"):
        account["business_profile"]["url"] = form["url"]
    if form.get("email"):
        account["email"] = form["email"]


# -- dashboard ---------------------------------------------------------------------------------------------------
async def dashboard_index(request: Request) -> Response:
    """``GET /dashboard``: every sandbox account, linking to its dashboard (a stand-in for Stripe's login)."""
    sandbox = sandbox_of(request)
    with sandbox.lock:
        accounts = sorted(sandbox.accounts.values(), key=lambda a: a["created"], reverse=True)
        return render(request, "dashboard_index.html", accounts=accounts, platform_name=sandbox.platform_name)


async def dashboard(request: Request) -> Response:
    """``GET /dashboard/{account}``: the account's status, requirements, and what its owner can do.

    Deeper links (``/dashboard/{account}/test/payouts/po_…``, as the real dashboard has) show the same page.
    """
    sandbox = sandbox_of(request)
    account_id = request.path_params["account"]
    with sandbox.lock:
        account = sandbox.accounts.get(account_id)
        if account is None:
            return error_page(request, f"No such account: '{account_id}'", status=404)
        connected = ["live" if mode else "test" for mode in (False, True) if sandbox.is_connected(account_id, mode)]
        notice = request.query_params.get("notice")
        return render(
            request,
            "dashboard.html",
            account=account,
            connected=connected,
            platform_name=sandbox.platform_name,
            notice=notice,
        )


async def dashboard_action(request: Request) -> Response:
    """``POST /dashboard/{account}/{action}``: ``provide`` (clears requirements) or ``disconnect``."""
    sandbox = sandbox_of(request)
    account_id = request.path_params["account"]
    action = request.path_params["action"]
    form = await form_data(request)
    with sandbox.lock:
        if account_id not in sandbox.accounts:
            return error_page(request, f"No such account: '{account_id}'", status=404)
        if action == "provide":
            now = sandbox.now()

            def mutate(account: dict[str, Any]) -> None:
                _apply_form(account, form)
                mark_verified(account, now)

            change_account(sandbox, account_id, mutate)
            notice = "Information provided and verified."
        elif action == "disconnect":
            notice = "Platform disconnected." if deauthorize(sandbox, account_id) else "No platform was connected."
        else:
            return error_page(request, f"Unknown action: {action}", status=404)
    return RedirectResponse(f"/dashboard/{account_id}?notice={notice.replace(' ', '+')}", status_code=303)
