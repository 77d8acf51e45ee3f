"""The store-once rule, the one place it is written: a report's item is written only where its key
is free; the same report again counts a delivery on the stored item; other content under the same
key never replaces what is stored. The postback service and the replay tool both go through it."""

from __future__ import annotations

from enum import StrEnum

from aws_lambda_powertools import Logger

from functions.failures import StorageUnavailable
from functions.names import SERVICE_NAME
from functions.postback.ports import ReportStore
from functions.reports.items import ReportItem

logger = Logger(service=SERVICE_NAME)


class Stored(StrEnum):
    NEW = "new"
    """The item was written."""
    DUPLICATE = "duplicate"
    """The same report was stored already; its `deliveries` went up by one."""
    CONFLICT = "conflict"
    """Another report holds the key; it stays as it is."""


def store_once(store: ReportStore, item: ReportItem) -> Stored:
    """Raises StorageUnavailable when the item could not be written or read. A delivery that
    cannot be counted is logged, not raised: the report itself is safe."""
    stored_raw = store.insert(item)
    if stored_raw is None:
        return Stored.NEW
    if stored_raw != item.raw:
        return Stored.CONFLICT
    try:
        store.count_delivery(item)
    except StorageUnavailable as error:
        logger.warning("duplicate not counted", extra={"error": error.code})
    return Stored.DUPLICATE
