"""The store-once rule on its own: new, the same again, other content under the same key."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from functions.failures import StorageUnavailable
from functions.postback.body import read_postback
from functions.postback.delivery import read_webhook
from functions.postback.store_once import Stored, store_once
from functions.reports.items import ReportItem, to_item
from tests.fakes import InMemoryReportStore
from tests.helpers import EVENTS, event_body

NOW = datetime(2026, 11, 28, 5, 26, 7, tzinfo=UTC)

DEADLINE = 1000.0


def item_of(body: bytes) -> ReportItem:
    _, item = read_postback(body, None, NOW, 256 * 1024)
    return item


CALL = item_of(event_body("call_finished.xml"))
KEY = InMemoryReportStore.key_of(CALL)


def test_a_new_report_is_written_once_with_one_delivery() -> None:
    store = InMemoryReportStore()

    assert store_once(store, CALL, deadline=DEADLINE) is Stored.NEW
    assert store.items == {KEY: CALL}
    assert store.deliveries == {KEY: 1}


def test_the_same_report_again_counts_a_delivery_and_writes_nothing() -> None:
    store = InMemoryReportStore()
    store_once(store, CALL, deadline=DEADLINE)
    again = item_of(event_body("call_finished.xml"))

    assert store_once(store, again, deadline=DEADLINE) is Stored.DUPLICATE
    assert store.items[KEY] is CALL
    assert store.deliveries[KEY] == 2


def test_other_content_under_the_same_key_leaves_the_stored_item_alone() -> None:
    store = InMemoryReportStore()
    store_once(store, CALL, deadline=DEADLINE)
    changed = item_of(event_body("call_finished.xml").replace(b"TRANSFER", b"BUSY"))

    assert store_once(store, changed, deadline=DEADLINE) is Stored.CONFLICT
    assert store.items[KEY] is CALL
    assert store.deliveries[KEY] == 1


def test_a_delivery_that_cannot_be_counted_is_still_a_duplicate(log_output: list[str]) -> None:
    store = InMemoryReportStore()
    store_once(store, CALL, deadline=DEADLINE)
    store.counting_down = True

    assert store_once(store, CALL, deadline=DEADLINE) is Stored.DUPLICATE
    assert store.deliveries[KEY] == 1
    assert any("duplicate not counted" in line for line in log_output)


def test_storage_down_reaches_the_caller() -> None:
    store = InMemoryReportStore(down=True)

    with pytest.raises(StorageUnavailable):
        store_once(store, CALL, deadline=DEADLINE)
    assert store.items == {}


# v2 versions and campaigns: the rules of functions.reports.versions, applied conditionally.


def v2_call(modified: int, **resource: object) -> ReportItem:
    event = json.loads((EVENTS / "v2" / "outbound_call_finished.json").read_text())["events"][0]
    event["resource"].update(modified=modified, **resource)
    (read,) = read_webhook(json.dumps({"events": [event]}), None, 10**6).events
    return to_item(read.content, raw=read.raw, received_at="2026-11-29T00:00:00.000Z")


def test_a_newer_version_replaces_the_stored_one() -> None:
    store = InMemoryReportStore()
    store_once(store, v2_call(1000), deadline=DEADLINE)
    newer = v2_call(2000, finalCallResult="LA")

    assert store_once(store, newer, deadline=DEADLINE) is Stored.UPDATED
    (item,) = store.items.values()
    assert (item.raw, item.attributes["disposition"], item.attributes["version"]) == (
        newer.raw,
        "LA",
        2,
    )
    assert store.deliveries == {InMemoryReportStore.key_of(newer): 1}


def test_an_older_version_is_a_conflict_and_never_overwrites() -> None:
    store = InMemoryReportStore()
    store_once(store, v2_call(2000), deadline=DEADLINE)

    assert (
        store_once(store, v2_call(1000, finalCallResult="LA"), deadline=DEADLINE) is Stored.CONFLICT
    )
    (item,) = store.items.values()
    assert item.attributes["disposition"] == "AM"


def test_a_concurrent_write_is_read_again_and_an_older_version_then_loses() -> None:
    """Between this writer's read and its conditional write, another delivery stores a still
    newer version: the write is refused, the item read again, and this version is older now."""
    store = InMemoryReportStore()
    store_once(store, v2_call(1000), deadline=DEADLINE)
    newest = v2_call(3000, finalCallResult="BUSY")
    read_before = store.current
    raced: list[bool] = []

    def read_then_lose_the_race(item: ReportItem, *, deadline: float) -> object:
        seen = read_before(item, deadline=deadline)
        if not raced:
            raced.append(True)
            store_once(store, newest, deadline=DEADLINE)
        return seen

    store.current = read_then_lose_the_race  # type: ignore[method-assign]

    assert (
        store_once(store, v2_call(2000, finalCallResult="LA"), deadline=DEADLINE) is Stored.CONFLICT
    )
    (item,) = store.items.values()
    assert (item.raw, item.attributes["version"]) == (newest.raw, 2)


def test_an_item_that_keeps_changing_is_reported_unavailable() -> None:
    store = InMemoryReportStore()
    store_once(store, v2_call(1000), deadline=DEADLINE)
    store.replace = lambda *_, **__: False  # type: ignore[method-assign, assignment]

    with pytest.raises(StorageUnavailable):
        store_once(store, v2_call(2000), deadline=DEADLINE)


def test_an_item_removed_while_merging_is_stored_again() -> None:
    store = InMemoryReportStore()
    store_once(store, v2_call(1000), deadline=DEADLINE)
    newer = v2_call(2000)

    def removed_meanwhile(_: ReportItem, *, deadline: float) -> None:
        store.items.clear()

    store.current = removed_meanwhile  # type: ignore[method-assign, assignment]

    assert store_once(store, newer, deadline=DEADLINE) is Stored.NEW
    assert list(store.items.values()) == [newer]
