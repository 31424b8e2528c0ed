"""Stripe's amount rules: minor units per currency, and the least and most a charge may be.

From https://docs.stripe.com/currencies: "Minimum charge amount" by settlement currency, and the
``amount`` value's digits (eight for most currencies, nine for INR, twelve for IDR). The sandbox takes a
charge's currency as its settlement currency (each account is paid out in what it charges), so a charge
below its own currency's minimum is refused; a currency the table does not list needs at least one unit.
"""

from __future__ import annotations

ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv",
                          "xaf", "xof", "xpf"})
"""Amounts are whole units (``500`` is ¥500). ISK and UGX stay two-decimal in the API (``500`` is 5 ISK)."""

MINIMUM_CHARGE: dict[str, tuple[int, str]] = {
    "usd": (50, "$0.50"), "aed": (200, "2.00 د.إ"), "aud": (50, "$0.50"), "bgn": (100, "лв1.00"),
    "brl": (50, "R$0.50"), "cad": (50, "$0.50"), "chf": (50, "0.50 Fr"), "czk": (1500, "15.00Kč"),
    "dkk": (250, "2.50-kr."), "eur": (50, "€0.50"), "gbp": (30, "£0.30"), "hkd": (400, "$4.00"),
    "huf": (17500, "175.00 Ft"), "inr": (50, "₹0.50"), "jpy": (50, "¥50"), "mxn": (1000, "$10"),
    "myr": (200, "RM 2"), "nok": (300, "3.00-kr."), "nzd": (50, "$0.50"), "pln": (200, "2.00 zł"),
    "ron": (200, "lei2.00"), "sek": (300, "3.00-kr."), "sgd": (50, "$0.50"), "thb": (1000, "฿10"),
}
"""Settlement currency → (minimum in minor units, as Stripe's table prints it)."""

AMOUNT_DIGITS = {"idr": 12, "inr": 9}
DEFAULT_DIGITS = 8


def maximum_charge(currency: str) -> int:
    """The largest ``amount``: as many nines as the currency's digits (``99999999`` is $999,999.99)."""
    return int("9" * AMOUNT_DIGITS.get(currency, DEFAULT_DIGITS))


def minimum_charge(currency: str) -> int:
    return MINIMUM_CHARGE.get(currency, (1, ""))[0]


def shown(amount: int, currency: str) -> str:
    """``99999999, "usd"`` → ``$999,999.99`` (a symbol for the currencies Stripe's messages use one for)."""
    major = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}.get(currency)
    return f"{symbol}{major}" if symbol else f"{major} {currency.upper()}"


def minimum_shown(currency: str) -> str:
    """The minimum as Stripe's error messages put it: ``$0.50 usd``, ``175.00 Ft huf``."""
    printed = MINIMUM_CHARGE.get(currency, (1, shown(1, currency)))[1]
    return f"{printed} {currency}"
