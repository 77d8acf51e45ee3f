"""The store-once rule on its own: new, the same again, other content under the same key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.failures import StorageUnavailable
from functions.postback.body import read_postback
from functions.postback.store_once import Stored, store_once
from functions.reports.items import ReportItem
from tests.fakes import InMemoryReportStore
from tests.helpers import event_body

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
