"""The store-once rule, the one place it is written: a report's item is written only where its key
is free; the same report again counts a delivery on the stored item; other content under the same
key never replaces what is stored, unless the rules of `functions.reports.versions` say it is a
newer version of the same resource (v2) or part of the same campaign: then it replaces or joins
the stored item conditionally, so that a concurrent write can neither be lost nor win with an
older version. The postback and webhooks services and the replay tool all go through it.
Two deliveries are the same report when their bodies are: the same SHA-256, wherever each item
keeps its body (`raw` on the item, or `rawS3Key` in the bucket)."""

from __future__ import annotations

from enum import StrEnum

from aws_lambda_powertools import Logger

from functions.failures import StorageUnavailable
from functions.names import SERVICE_NAME
from functions.postback.ports import ReportStore
from functions.reports.items import ReportItem
from functions.reports.versions import Merge, may_merge, merge

logger = Logger(service=SERVICE_NAME)

MERGE_ATTEMPTS = 5
"""Reads and conditional writes tried while other writers keep changing the item."""


class Stored(StrEnum):
    NEW = "new"
    """The item was written."""
    DUPLICATE = "duplicate"
    """The same report was stored already; its `deliveries` went up by one."""
    CONFLICT = "conflict"
    """Another report holds the key; it stays as it is."""
    UPDATED = "updated"
    """A newer version replaced the stored report, or the report joined its campaign's item."""


def store_once(store: ReportStore, item: ReportItem, *, deadline: float) -> Stored:
    """Raises StorageUnavailable when the item could not be written or read by `deadline` (a
    time.monotonic() value). A delivery that cannot be counted is logged, not raised: the report
    itself is safe."""
    stored_body = store.insert(item, deadline=deadline)
    if stored_body is None:
        return Stored.NEW
    if stored_body == item.body_sha256:
        return _count(store, item, deadline)
    if not may_merge(item):
        return Stored.CONFLICT
    return _merge(store, item, deadline)


def _merge(store: ReportStore, item: ReportItem, deadline: float) -> Stored:
    for _ in range(MERGE_ATTEMPTS):
        stored = store.current(item, deadline=deadline)
        if stored is None:  # removed since the insert found it
            if store.insert(item, deadline=deadline) is None:
                return Stored.NEW
            continue
        decision = merge(stored, item)
        if decision.outcome is Merge.DUPLICATE:
            return _count(store, item, deadline)
        if decision.outcome is Merge.CONFLICT or decision.attributes is None:
            return Stored.CONFLICT
        if store.replace(item, stored, decision.attributes, deadline=deadline):
            return Stored.UPDATED
        logger.info("the item changed while it was merged; reading it again")
    raise StorageUnavailable("ConcurrentUpdates")


def _count(store: ReportStore, item: ReportItem, deadline: float) -> Stored:
    try:
        store.count_delivery(item, deadline=deadline)
    except StorageUnavailable as error:
        logger.warning("duplicate not counted", extra={"error": error.code})
    return Stored.DUPLICATE
