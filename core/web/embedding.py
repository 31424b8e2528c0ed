"""A page of this app inside the host app's layout.

When the host app passes ``layout`` to ``create_app``, each page is rendered without this app's own
chrome (header, sign-out, footer) and handed to the layout as an :class:`EmbeddedPage`; the layout
returns the whole HTML document, with ``head`` in its ``<head>`` and ``body`` where its content goes.
The response keeps this app's status code and security headers.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
from markupsafe import Markup
from starlette.requests import Request


@attrs.frozen(kw_only=True)
class EmbeddedPage:
    """One rendered page, in parts for the host app's layout (both ``Markup``: insert them unescaped)."""

    title: str
    """The page's title, e.g. "Disconnect Stripe?" (plain text: escape it, as templates do)."""
    head: Markup
    """What the page needs in ``<head>``: its stylesheet, script and the CSRF token's meta tag."""
    body: Markup
    """The page's content (forms carry their CSRF token and post to this app's own URLs)."""
    status_code: int = 200


PageLayout = Callable[[Request, EmbeddedPage], str]
"""``layout(request, page) -> html``: called while the response is built, on the event loop, so it
must not block (read the request's session, not a database)."""
