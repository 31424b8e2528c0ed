"""Account → connection state: a pure function, so every path (connect, refresh, webhook) agrees.

Stripe describes an account with flags and requirement field paths (``individual.verification.document``);
a creator needs one short sentence and a link to where it is fixed. What exactly is missing is a list in
plain words (``plain_requirements``) that the card shows once, beside the sentence, never inside it.

"Verification in progress" is not a state of its own: Stripe is checking what the creator sent and there
is nothing to do, so the state stays ``action_required`` (the account cannot take payments yet) while
``details["verification"] == "in_progress"`` and the reason say that nothing is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core import ConnectionState, ConnectionStatus

READY = "Ready to accept payments."

# Requirement path prefixes in the words a creator understands (first match wins).
PLAIN_WORDS: tuple[tuple[str, str], ...] = (
    ("external_account", "a bank account for payouts"),
    ("tos_acceptance", "acceptance of Stripe's terms of service"),
    ("business_profile.mcc", "your business category"),
    ("business_profile.url", "your website"),
    ("business_profile.product_description", "a description of what you sell"),
    ("business_profile", "your business details"),
    ("business_type", "your business type"),
    ("individual.verification", "an identity document"),
    ("individual.first_name", "your legal name"),
    ("individual.last_name", "your legal name"),
    ("individual.dob", "your date of birth"),
    ("individual.address", "your address"),
    ("individual.ssn_last_4", "your tax ID"),
    ("individual.id_number", "your tax ID"),
    ("individual.email", "your email address"),
    ("individual.phone", "your phone number"),
    ("individual", "your personal details"),
    ("company.tax_id", "your company's tax ID"),
    ("company.verification", "a company verification document"),
    ("company", "your company details"),
    ("representative", "details of your company's representative"),
    ("owners", "details of your company's owners"),
    ("directors", "details of your company's directors"),
    ("settings.payments.statement_descriptor", "a statement descriptor"),
)

DISABLED_REASONS = {
    "requirements.past_due": "Stripe needs more information before you can accept payments",
    "requirements.pending_verification": "Stripe is verifying your details; you can accept payments once it "
                                         "has finished",
    "under_review": "Stripe is reviewing your account",
    "listed": "Stripe is reviewing your account",
    "platform_paused": "Payments are paused for this account",
    "action_required.requested_capabilities": "Stripe needs you to request payment capabilities",
}


def plain_requirements(fields: Iterable[str]) -> list[str]:
    """Requirement paths as distinct plain phrases, in Stripe's order."""
    phrases: list[str] = []
    for field in fields:
        phrase = next((words for prefix, words in PLAIN_WORDS if field == prefix or field.startswith(prefix + ".")),
                      field.rsplit(".", 1)[-1].replace("_", " "))
        if phrase not in phrases:
            phrases.append(phrase)
    return phrases


VERIFYING = "in_progress"


def is_verifying(account: Mapping[str, Any]) -> bool:
    """Stripe is checking what the creator sent and needs nothing more from them yet."""
    req: Mapping[str, Any] = account.get("requirements") or {}
    if account.get("charges_enabled") or req.get("currently_due") or req.get("past_due"):
        return False
    if not account.get("details_submitted"):
        return False
    return bool(req.get("pending_verification")) or req.get("disabled_reason") == "requirements.pending_verification"


def _details(count: int) -> str:
    return "one more detail" if count == 1 else f"{count} more details"


def status_from_account(account: Mapping[str, Any], *, dashboard_url: str) -> ConnectionStatus:
    """Map ``charges_enabled``, ``payouts_enabled``, ``details_submitted`` and ``requirements`` to a state."""
    req: Mapping[str, Any] = account.get("requirements") or {}
    due = plain_requirements([*(req.get("past_due") or []), *(req.get("currently_due") or [])])
    disabled = req.get("disabled_reason") or None
    charges, payouts = bool(account.get("charges_enabled")), bool(account.get("payouts_enabled"))
    details = {
        "charges_enabled": charges,
        "payouts_enabled": payouts,
        "details_submitted": bool(account.get("details_submitted")),
        "currently_due": list(req.get("currently_due") or []),
        "past_due": list(req.get("past_due") or []),
        "pending_verification": list(req.get("pending_verification") or []),
        "disabled_reason": disabled,
        "verification": VERIFYING if is_verifying(account) else None,
    }

    def status(state: ConnectionState, reason: str) -> ConnectionStatus:
        return ConnectionStatus(state=state, reason=reason, action_url=dashboard_url, details=details)

    if disabled and disabled.startswith("rejected"):
        kind = disabled.split(".", 1)[-1].replace("_", " ")
        return status(ConnectionState.ERROR, f"Stripe rejected this account ({kind}), so it cannot accept "
                                             "payments. Contact Stripe support from your Stripe dashboard.")
    if not charges:
        if due:
            return status(ConnectionState.ACTION_REQUIRED, f"Stripe needs {_details(len(due))} from you before "
                                                           "you can accept payments.")
        if details["verification"] == VERIFYING:
            return status(ConnectionState.ACTION_REQUIRED, "Stripe is verifying your details. There is nothing to "
                                                           "do for now: you can accept payments once it has "
                                                           "finished.")
        if not account.get("details_submitted"):
            return status(ConnectionState.ACTION_REQUIRED, "Finish setting up your Stripe account before you can "
                                                           "accept payments.")
        reason = DISABLED_REASONS.get(disabled or "", "Stripe has not enabled payments for this account yet")
        return status(ConnectionState.ACTION_REQUIRED, f"{reason}. Check your Stripe dashboard for details.")
    if not payouts:
        needs = f" until you give it {_details(len(due))}" if due else " yet"
        return status(ConnectionState.ACTION_REQUIRED, f"You can accept payments, but Stripe will not pay out to "
                                                       f"you{needs}.")
    if due:
        return status(ConnectionState.ACTION_REQUIRED, f"You can accept payments. Stripe needs {_details(len(due))} "
                                                       "soon to keep payments and payouts running.")
    return ConnectionStatus(state=ConnectionState.CONNECTED, reason=READY, action_url=dashboard_url, details=details)


def revoked_status(dashboard_url: str) -> ConnectionStatus:
    """Stripe refused access to the account: the creator deauthorized the platform or the grant was revoked."""
    return ConnectionStatus(state=ConnectionState.NEEDS_REAUTH,
                            reason="Stripe no longer gives this site access to your account (it was disconnected "
                                   "in Stripe). Connect Stripe again to take payments.",
                            action_url=dashboard_url)
