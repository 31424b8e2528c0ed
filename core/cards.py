"""What a plugin adds to its card on the settings page for one site: the ``card_details`` hook's answer.

Plain data, never markup: the host renders it the same way for every plugin (accessible, phone-sized,
without JavaScript), so a third-party plugin gets a page that looks and behaves like the first-party
ones. Everything is optional; a plugin fills in what makes sense for its provider::

    CardDetails(
        label="Verification in progress", tone=Tone.INFO,
        identity=[Fact(label="Account", value="acct_123"), Fact(label="Mode", value="Test", tone=Tone.WARNING)],
        sections=[Section(name="offers", title="Your offers", table=Table(columns=["Offer", "Price"], rows=[...]))],
    )
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence

import attrs


class Tone(enum.StrEnum):
    """How a value reads at a glance (the page colours it; the words must say it too)."""

    NEUTRAL = "neutral"
    GOOD = "good"
    INFO = "info"
    WARNING = "warning"
    BAD = "bad"


@attrs.frozen(kw_only=True)
class Link:
    """A link a creator follows (e.g. into the provider's dashboard); http(s) only, others are dropped."""

    label: str
    url: str


@attrs.frozen(kw_only=True)
class Action:
    """A button: a ``post`` to ``url`` (one of your own web routes, with the page's CSRF token) or a
    ``get`` link styled as a button. ``primary`` makes it the card's main call to action."""

    label: str
    url: str
    method: str = attrs.field(default="post", validator=attrs.validators.in_(("get", "post")))
    primary: bool = False


@attrs.frozen(kw_only=True)
class Fact:
    """One labelled value ("Charges" → "Enabled"); ``tone`` colours it, the words carry the meaning."""

    label: str
    value: str
    tone: Tone = attrs.field(default=Tone.NEUTRAL, converter=Tone)


@attrs.frozen(kw_only=True)
class RowAction:
    """A button on a row that submits your card form ``form`` with ``values``, after the creator confirms.

    Declare ``form`` in ``IntegrationInfo.card_forms`` (``listed=False`` keeps it off the card) with a
    field for each key of ``values``; ``submit_card_form`` receives it like any card form. ``confirm``
    says exactly what happens (the page asks it before anything is sent); ``label`` names the thing
    for screen readers ("Archive Watercolour basics").
    """

    text: str
    label: str
    form: str
    values: Mapping[str, str] = attrs.field(factory=dict)
    confirm: str = ""
    confirm_button: str = ""


def _tuple(values: Iterable[object]) -> tuple[object, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Row:
    """One line of a table: ``cells`` in column order; ``key`` is stable (ids in the page).

    ``copy`` offers a "Copy" button for a value (a link to share), ``link`` opens the row's thing at
    the provider, ``actions`` act on it; ``muted`` greys out a row that is no longer live.
    """

    key: str
    cells: Sequence[str] = attrs.field(factory=tuple, converter=_tuple)
    copy: str = ""
    copy_label: str = "Copy link"
    link: Link | None = None
    actions: Sequence[RowAction] = attrs.field(factory=tuple, converter=_tuple)
    muted: bool = False


@attrs.frozen(kw_only=True)
class Table:
    """Rows under column headings; on a phone each row becomes a stack of "heading: value" lines."""

    columns: Sequence[str] = attrs.field(converter=_tuple)
    rows: Sequence[Row] = attrs.field(factory=tuple, converter=_tuple)
    empty: str = "Nothing yet."
    caption: str = ""
    more: Link | None = None


@attrs.frozen(kw_only=True)
class Section:
    """A titled part of the card (offers, payouts...): facts, a table, a line of text and links."""

    name: str = attrs.field(validator=attrs.validators.matches_re(r"^[a-z][a-z0-9_-]*$"))
    title: str
    text: str = ""
    facts: Sequence[Fact] = attrs.field(factory=tuple, converter=_tuple)
    table: Table | None = None
    links: Sequence[Link] = attrs.field(factory=tuple, converter=_tuple)


@attrs.frozen(kw_only=True)
class CardDetails:
    """What ``card_details`` returns for one site; every part is optional.

    * ``label`` / ``tone`` — the card's badge when the state's own word misleads (a connection in
      ``action_required`` whose provider is only verifying: "Verification in progress", ``Tone.INFO``).
    * ``identity`` — who is connected (account, mode, since when, what works).
    * ``needs_title`` / ``needs`` — what the creator must still do, one plain item each, shown once.
    * ``actions`` — buttons (``Action``), e.g. "Finish setup in Stripe".
    * ``steps`` — numbered steps to set the integration up; ``links`` — links under them.
    * ``sections`` — the rest of the card (offers, payouts, disputes...).
    * ``locked_forms`` — card form name → why it cannot be used now (the page shows the reason, not the form).
    * ``disconnect_effects`` — what stops when the creator disconnects, for the confirmation.
    * ``revoke_effect`` — what stops when one of the site's API keys is revoked ("Zaps using it stop").

    An identity fact labelled ``"Mode"`` also shows as a badge beside the state ("Test mode").
    """

    label: str = ""
    tone: Tone = attrs.field(default=Tone.NEUTRAL, converter=Tone)
    identity: Sequence[Fact] = attrs.field(factory=tuple, converter=_tuple)
    needs_title: str = ""
    needs: Sequence[str] = attrs.field(factory=tuple, converter=_tuple)
    actions: Sequence[Action] = attrs.field(factory=tuple, converter=_tuple)
    steps: Sequence[str] = attrs.field(factory=tuple, converter=_tuple)
    links: Sequence[Link] = attrs.field(factory=tuple, converter=_tuple)
    sections: Sequence[Section] = attrs.field(factory=tuple, converter=_tuple)
    locked_forms: Mapping[str, str] = attrs.field(factory=dict)
    disconnect_effects: Sequence[str] = attrs.field(factory=tuple, converter=_tuple)
    revoke_effect: str = ""
