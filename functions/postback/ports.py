"""What the postback service needs from the outside world. How each can fail is in
`functions.failures`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from functions.recordings.jobs import RecordingJob
from functions.reports.items import ReportItem


class SecretValue(Protocol):
    def value(self) -> str:
        """The secret's current value. Raises SecretUnavailable."""
        ...


class ReportStore(Protocol):
    def insert(self, item: ReportItem) -> str | None:
        """Write `item` unless its key exists. None when written; else the stored item's `raw`.
        Raises StorageUnavailable."""
        ...

    def count_delivery(self, item: ReportItem) -> None:
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
    ) -> str:
        """Store `body` (as received, still encoded) under `prefix`, with the reason and what
        replaying it needs in its metadata; the object key.
        Raises ArchiveUnavailable."""
        ...


class RecordingQueue(Protocol):
    def enqueue(self, jobs: Sequence[RecordingJob]) -> None:
        """Queue every job. Raises QueueUnavailable."""
        ...
