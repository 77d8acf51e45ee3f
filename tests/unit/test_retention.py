"""How long a report lives: `expiresAt` from its arrival, whatever its format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.names import Item
from functions.reports.retention import DAY_SECONDS, Retention
from tests.helpers import event_body

ARRIVED = "2026-11-28T05:26:07.123Z"
ARRIVED_EPOCH = int(datetime(2026, 11, 28, 5, 26, 7, tzinfo=UTC).timestamp())


def test_an_item_expires_its_retention_after_it_arrived() -> None:
    assert Retention(30).expires_at(ARRIVED) == ARRIVED_EPOCH + 30 * DAY_SECONDS


def test_no_retention_writes_no_expiry() -> None:
    attributes = {Item.RECEIVED_AT: ARRIVED, Item.RAW: "<x/>"}

    assert Retention(0).expires_at(ARRIVED) is None
    assert Retention(0).applied(attributes) == attributes


def test_the_expiry_is_added_to_any_item_without_changing_the_rest() -> None:
    """A v2 item has other attributes: only `receivedAt` is read."""
    attributes = {Item.RECEIVED_AT: ARRIVED, "fromNumber": "12132212384", Item.RAW: "{}"}

    applied = Retention(1).applied(attributes)

    assert applied == {**attributes, Item.EXPIRES_AT: ARRIVED_EPOCH + DAY_SECONDS}
    assert Item.EXPIRES_AT not in attributes


def test_an_item_without_a_readable_arrival_counts_from_now() -> None:
    assert Retention(2).expires_at(None, now=lambda: 1000.5) == 1000 + 2 * DAY_SECONDS
    assert Retention(2).expires_at("yesterday", now=lambda: 1000.0) == 1000 + 2 * DAY_SECONDS


@pytest.mark.parametrize(
    ("setting", "days"), [(None, 0), ("", 0), ("0", 0), ("30", 30), (" 7 ", 7), ("-3", 0), ("x", 0)]
)
def test_the_setting_is_read_as_the_stack_writes_it(setting: str | None, days: int) -> None:
    assert Retention.from_setting(setting) == Retention(days)


def test_a_remapped_item_keeps_when_it_expires() -> None:
    """`replay remap` rewrites an item from its raw body; its expiry stays the one it was given."""
    from tools.replay import remapped

    raw = event_body("call_finished.xml").decode()
    old = {
        "callId": "111111",
        "eventType": "call",
        Item.RAW: raw,
        Item.RECEIVED_AT: ARRIVED,
        Item.DELIVERIES: 2,
        Item.EXPIRES_AT: 1234,
    }

    new = remapped(old, raw)

    assert new is not None
    assert new.attributes[Item.EXPIRES_AT] == 1234
