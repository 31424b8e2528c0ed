"""Stripe's amount rules, checked before Stripe refuses: minor units and the least and most a charge may be.

A checkout link whose price Stripe will never charge is worse than no link: the buyer finds out. So an
offer's price is checked here, per currency, against https://docs.stripe.com/currencies — "Minimum
charge amount" by settlement currency (an offer is charged and, on the creator's account, settled in its
own currency) and the ``amount`` value's digits (eight for most currencies, nine for INR, twelve for IDR).
Offers are sold in the currencies of that table only: for any other one Stripe's minimum is unknown here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core import ValidationFailed

ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv",
                          "xaf", "xof", "xpf"})
"""Whole units in the API (``500`` is ¥500); every other currency has two decimals (HUF, ISK and UGX too)."""

MINIMUM_CHARGE = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500, "dkk": 250,
    "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300,
    "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}
"""Currency → the smallest charge Stripe makes, in its smallest unit."""

SUPPORTED = tuple(sorted(MINIMUM_CHARGE))
AMOUNT_DIGITS = {"idr": 12, "inr": 9}
DEFAULT_DIGITS = 8
OUT_OF_RANGE = "amount_out_of_range"


def decimals(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 2


def minimum(currency: str) -> int:
    return MINIMUM_CHARGE[currency]


def maximum(currency: str) -> int:
    """As many nines as the currency's digits: ``99999999`` is USD 999,999.99."""
    return int("9" * AMOUNT_DIGITS.get(currency, DEFAULT_DIGITS))


def shown(amount: int, currency: str) -> str:
    """``4990, "usd"`` → ``USD 49.90``; ``5000, "jpy"`` → ``JPY 5,000``."""
    places = decimals(currency)
    major = Decimal(amount).scaleb(-places)
    return f"{currency.upper()} {major:,.{places}f}"


def limits_text(currency: str) -> str:
    """``at least USD 0.50 and at most USD 999,999.99``: what a creator may charge in ``currency``."""
    return f"at least {shown(minimum(currency), currency)} and at most {shown(maximum(currency), currency)}"


def check_currency(currency: str, *, field: str = "currency") -> str:
    """The currency in lower case, if offers can be sold in it."""
    code = currency.strip().lower()
    if code not in MINIMUM_CHARGE:
        raise ValidationFailed(f"Offers can be sold in {', '.join(c.upper() for c in SUPPORTED)}; "
                               f"{currency.upper() or 'no currency'} is not one of them.",
                               code="currency_unsupported", field=field)
    return code


def check_amount(amount: int, currency: str, *, label: str = "amount", field: str = "amount") -> int:
    """``amount`` (smallest unit) if Stripe will charge it in ``currency``; else a 400 naming the limits."""
    if not minimum(currency) <= amount <= maximum(currency):
        raise ValidationFailed(f"{label}: enter {limits_text(currency)} (what Stripe charges in "
                               f"{currency.upper()}).", code=OUT_OF_RANGE, field=field)
    return amount


def amount_from_price(price: str, currency: str, *, label: str = "Price", field: str = "price") -> int:
    """A price as a creator types it (``49.90``, ``1,250``) → the smallest unit (``4990``), within the limits."""
    places = decimals(currency)
    text = price.strip().replace(",", "").replace(" ", "")
    try:
        value = Decimal(text)
        exact = value.is_finite() and value == value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # not a number, or too many digits to be a price (1e30)
        value, exact = Decimal(0), False
    if not exact or value <= 0:
        how = "a whole number, like 5000" if places == 0 else "a number with at most two decimals, like 49 or 49.90"
        raise ValidationFailed(f"{label}: enter {how} (no currency sign), not {price!r}.", code="offer_invalid",
                               field=field)
    return check_amount(int(value.scaleb(places)), currency, label=label, field=field)
