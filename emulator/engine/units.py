"""Integer money units, following MtGox's `_int` conventions.

BTC amounts are counted in 1e-8 (satoshi); prices in 1e-5 of the currency, except JPY in 1e-3.
Floats exist only at the edge, when a response is rendered.
"""

from decimal import Decimal, InvalidOperation

BTC_SCALE = 10**8
FIAT_SCALE = 10**5
PRICE_SCALES: dict[str, int] = {"JPY": 10**3}
MAX_DIGITS = 24  # digits before the point that parse_units takes: far above any amount or price
MICROS = 1_000_000  # market time is counted in integer microseconds
PPM = 1_000_000  # fee rates are parts per million: 0.65% is 6500
DEFAULT_FEE_PPM = 6500  # 0.65%, MtGox's fee in 2011
MIN_ACTIVATION = 10**6  # an order waiting for funds is woken in parts no smaller than 0.01 BTC


def is_digits(text: str, most: int) -> bool:
    """A non-negative integer in plain ASCII digits, at most `most` of them (str.isdigit() also takes
    "²" and "٣", which int() then refuses)."""
    return 0 < len(text) <= most and text.isascii() and text.isdigit()


def price_scale(currency: str) -> int:
    return PRICE_SCALES.get(currency, FIAT_SCALE)


def hold_for(amount: int, price: int) -> int:
    """Currency units to reserve for a bid: rounded up, so a hold always covers its fills."""
    return -(-amount * price // BTC_SCALE)


def to_number(units: int, scale: int) -> int | float:
    """Render integer units as a JSON number: whole values without a fraction (17, not 17.0)."""
    whole, rest = divmod(units, scale)
    if rest == 0:
        return whole
    return units / scale


def to_decimal_string(units: int, scale: int) -> str:
    """Render integer units as a plain decimal string, e.g. "0.109" or "15"."""
    text = format(Decimal(units) / Decimal(scale), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_units(text: str, scale: int) -> int:
    """Parse a decimal string into integer units, truncating digits finer than the unit.

    Raises ValueError for anything that is not a finite decimal number.
    """
    if len(text) > 40:
        raise ValueError("number too long")
    try:
        number = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc
    if not number.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    if number.adjusted() > MAX_DIGITS:  # 1e400 would be a 400-digit int, 1e999999 overflows Decimal
        raise ValueError(f"number too large: {text!r}")
    return int(number * scale)
