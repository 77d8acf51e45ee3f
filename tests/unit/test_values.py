"""Conversions of CallFire's text values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions.reports.values import iso_timestamp, money, number, whole_number


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2010-03-24 15:58:18.0", "2010-03-24T15:58:18"),
        ("2010-03-24 15:58:18", "2010-03-24T15:58:18"),
        ("2010-03-24T15:58:18.000", "2010-03-24T15:58:18"),
        ("2010-03-24 15:58:18.120", "2010-03-24T15:58:18.12"),
        ("2010-03-24 15:58:18Z", "2010-03-24T15:58:18Z"),
        ("2010-03-24 15:58:18 -0800", "2010-03-24T15:58:18-08:00"),
        ("2010-03-24 15:58:18+05:30", "2010-03-24T15:58:18+05:30"),
    ],
)
def test_timestamps_become_iso_8601(text: str, iso: str) -> None:
    assert iso_timestamp(text) == iso


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2010-13-24 15:58:18", "2010-02-30 10:00:00", "2010-03-24", "24/03/2010"],
)
def test_what_is_not_a_timestamp_gives_none(text: str) -> None:
    assert iso_timestamp(text) is None


def test_numbers() -> None:
    assert number("35") == 35
    assert number("-2") == -2
    assert number("35.50") == Decimal("35.50")
    assert number("3e5") is None
    assert number("NaN") is None
    assert number("") is None
    assert whole_number("12") == 12
    assert whole_number("12.0") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$2.25", (Decimal("2.25"), "USD")),
        ("$ 2.25", (Decimal("2.25"), "USD")),
        ("$1,234.50", (Decimal("1234.50"), "USD")),
        ("2.25", (Decimal("2.25"), None)),
        ("2.25 EUR", (Decimal("2.25"), "EUR")),
        ("€3", (Decimal("3"), "EUR")),
        ("£0.10", (Decimal("0.10"), "GBP")),
        ("$2.25 CAD", (Decimal("2.25"), "CAD")),
        ("-$0.5", None),
        ("free", None),
        ("€2 USD", None),
    ],
)
def test_money(text: str, expected: tuple[Decimal, str | None] | None) -> None:
    assert money(text) == expected


@pytest.mark.parametrize("text", ["1" * 31, "1" * 20 + ".5", "0." + "1" * 19])
def test_numbers_dynamodb_cannot_hold_exactly_are_not_numbers(text: str) -> None:
    assert number(text) is None


def test_money_too_precise_for_dynamodb_is_not_money() -> None:
    assert money("$1." + "1" * 13) is None
    assert money("$" + "9" * 25) is None
