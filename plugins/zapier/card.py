"""Zapier's card (the ``card_details`` hook): how to set it up in numbered steps, and what stops when a key is
revoked or Zapier is disconnected. Creator copy only: no command line (that is in docs/plugins/zapier.md)."""

from __future__ import annotations

from core import CardDetails, IntegrationContext, Link

from .config import ZapierConfig

STEPS = (
    "Create an API key below. Give it a name you will recognise, such as “My Zaps”; it is shown only once.",
    "Open Zapier and make a Zap with the Intellectra app as its trigger (for example “Purchase completed”) or "
    "its action (for example “Enroll a member”).",
    "When Zapier asks to connect your Intellectra account, paste the key.",
)


def card_details(ctx: IntegrationContext) -> CardDetails:
    config: ZapierConfig = ctx.config
    keys = ctx.api_keys.list() if ctx.tenant is not None else []
    zaps = ctx.subscriptions.list() if ctx.tenant is not None else []
    key_count = f"{len(keys)} API key{'s' if len(keys) != 1 else ''}"
    zap_count = f"{len(zaps)} Zap trigger{'s' if len(zaps) != 1 else ''}"
    return CardDetails(
        steps=STEPS,
        links=[Link(label="Open Zapier", url=config.app_url)],
        revoke_effect="Zaps connected with this key stop running until you paste a new key into Zapier",
        disconnect_effects=[
            f"Every API key of this site stops working ({key_count}); Zapier's next call is refused.",
            f"Your Zaps stop receiving your site's events ({zap_count} active) and can no longer enroll or tag "
            "members.",
            "Your Zaps stay in your Zapier account: create a new key and reconnect them whenever you like.",
        ],
    )
