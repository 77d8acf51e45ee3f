"""What the postback service needs from the outside world. How each can fail is in
`functions.failures`. Every call takes a deadline (a time.monotonic() value) it must end by."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from functions.recordings.jobs import RecordingJob
from functions.reports.items import ReportItem
from functions.reports.links import ReportLinks


class SecretValue(Protocol):
    def value(self, *, deadline: float) -> str:
        """The secret's current value. Raises SecretUnavailable."""
        ...


class ReportStore(Protocol):
    def insert(self, item: ReportItem, *, deadline: float) -> str | None:
        """Write `item` unless its key exists (a body it keeps in the bucket goes there first).
        None when written; else the stored item's `body_sha256`. Raises StorageUnavailable."""
        ...

    def count_delivery(self, item: ReportItem, *, deadline: float) -> None:
        """Add one to the stored item's `deliveries`. Raises StorageUnavailable."""
        ...


class BodyArchive(Protocol):
    def keep(
        self,
        prefix: str,
        body: bytes,
        *,
        request_id: str,
        received_at: datetime,
        content_encoding: str | None,
        reason: str,
        detail: str,
        deadline: float,
        links: ReportLinks | None = None,
    ) -> str:
        """Store `body` (as received, still encoded) under `prefix`, with the reason and what
        replaying it needs in its metadata; the object key. `links` (when the report could be
        read) index the body for erasure. Raises ArchiveUnavailable."""
        ...


class RecordingQueue(Protocol):
    def enqueue(self, jobs: Sequence[RecordingJob], *, deadline: float) -> None:
        """Queue every job. Raises QueueUnavailable."""
        ...
