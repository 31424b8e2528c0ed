"""The session's CSRF token: made on first use, replaced at sign-in and sign-out, compared in constant time.

Pages put it in every form (``core.web.templating``); ``core.web.csrf`` checks what a request brings
against it.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

from core.web.session import own_session

SESSION_KEY = "csrf"


def csrf_token(request: Request) -> str:
    """The session's token (created on first use); templates put it in every form."""
    session = own_session(request)
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def rotate(request: Request) -> str:
    """Replace the token (at sign-in and sign-out, so a token never outlives the identity it guarded)."""
    own_session(request).pop(SESSION_KEY, None)
    return csrf_token(request)


def token_matches(expected: object, presented: object) -> bool:
    return (isinstance(expected, str) and isinstance(presented, str) and bool(expected)
            and hmac.compare_digest(expected.encode(), presented.encode()))
