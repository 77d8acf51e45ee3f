"""The store-once rule, the one place it is written: a report's item is written only where its key
is free; the same report again counts a delivery on the stored item; other content under the same
key never replaces what is stored. The postback service and the replay tool both go through it.
Two deliveries are the same report when their bodies are: the same SHA-256, wherever each item
keeps its body (`raw` on the item, or `rawS3Key` in the bucket)."""

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


def store_once(store: ReportStore, item: ReportItem, *, deadline: float) -> Stored:
    """Raises StorageUnavailable when the item could not be written or read by `deadline` (a
    time.monotonic() value). A delivery that cannot be counted is logged, not raised: the report
    itself is safe."""
    stored_body = store.insert(item, deadline=deadline)
    if stored_body is None:
        return Stored.NEW
    if stored_body != item.body_sha256:
        return Stored.CONFLICT
    try:
        store.count_delivery(item, deadline=deadline)
    except StorageUnavailable as error:
        logger.warning("duplicate not counted", extra={"error": error.code})
    return Stored.DUPLICATE
