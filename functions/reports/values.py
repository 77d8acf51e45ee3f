"""Conversions of CallFire's text values. Each returns None when the text is not of its kind, so the
reader can keep the original text in `extra` instead of dropping it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?"
)
_INTEGER = re.compile(r"[+-]?\d{1,30}")
_DECIMAL = re.compile(r"[+-]?\d{1,19}\.\d{1,18}")
"""Numbers stay within DynamoDB's 38 significant digits; longer ones are kept as text."""
_COST = re.compile(
    r"(?P<symbol>[$€£¥])?\s*(?P<amount>-?(?:\d{1,3}(?:,\d{3}){1,8}|\d{1,24})(?:\.\d{1,12})?)\s*(?P<code>[A-Za-z]{3})?"
)
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}


def iso_timestamp(text: str) -> str | None:
    """CallFire's `2010-03-24 15:58:18.0` as ISO 8601 `2010-03-24T15:58:18`; fractions other than
    zero and a zone, when given, are kept."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    iso = f"{year}-{month}-{day}T{hour}:{minute}:{second}"
    if fraction and fraction.rstrip("0"):
        iso += "." + fraction.rstrip("0")
    if zone:
        iso += "Z" if zone == "Z" else f"{zone[:3]}:{zone[-2:]}"
    return iso


def whole_number(text: str) -> int | None:
    return int(text) if _INTEGER.fullmatch(text) else None


def number(text: str) -> int | Decimal | None:
    """An integer, or a plain decimal such as `35.5`."""
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return Decimal(text)
    return None


def money(text: str) -> tuple[Decimal, str | None] | None:
    """`$2.25` as (2.25, "USD"); `2.25 EUR` as (2.25, "EUR"); a bare amount has no currency."""
    match = _COST.fullmatch(text)
    if match is None:
        return None
    try:
        amount = Decimal(match["amount"].replace(",", ""))
    except InvalidOperation:
        return None
    code = match["code"].upper() if match["code"] else None
    symbol_currency = _CURRENCY_SYMBOLS.get(match["symbol"] or "")
    if code and symbol_currency and code != symbol_currency and match["symbol"] != "$":
        return None
    return amount, code or symbol_currency


_EPOCH = datetime(1970, 1, 1)  # naive: UTC by definition here, and faster to add to


def iso_utc(moment: datetime) -> str:
    """`2026-11-28T05:26:07.123Z`: UTC, always with milliseconds, so such times sort as text."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def iso_from_epoch_ms(value: Any) -> str | None:
    """CallFire v2's epoch milliseconds (a JSON integer) as ISO 8601 UTC; None for anything else
    (text, a fraction, a boolean, a time outside years 1 to 9999). Integer arithmetic only: no
    float ever rounds a millisecond."""
    if type(value) is not int:
        return None
    seconds, milliseconds = divmod(value, 1000)
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None
    return f"{moment.isoformat()}.{milliseconds:03d}Z"


DYNAMODB_MAX_DIGITS = 38
_DYNAMODB_EXPONENTS = range(-130, 126)


def storable_number(value: int | Decimal) -> int | Decimal | None:
    """`value` when DynamoDB can store it as a number (38 significant digits, magnitudes from
    1E-130 to under 1E+126), else None: the caller keeps its text instead."""
    if type(value) is int and -_ALWAYS_STORABLE < value < _ALWAYS_STORABLE:
        return value
    number = Decimal(value) if type(value) is int else value
    if not isinstance(number, Decimal) or not number.is_finite():
        return None
    if number.is_zero():
        return value
    digits = number.as_tuple().digits
    if len(digits) > DYNAMODB_MAX_DIGITS:
        significant = "".join(map(str, digits)).strip("0")
        if len(significant) > DYNAMODB_MAX_DIGITS:
            return None
    if number.adjusted() not in _DYNAMODB_EXPONENTS:
        return None
    return value


_ALWAYS_STORABLE = 10**DYNAMODB_MAX_DIGITS
