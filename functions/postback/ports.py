"""What the postback service needs from the outside world, and how that can fail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from functions.recordings.jobs import RecordingJob
from functions.reports.items import ReportItem


class Unavailable(Exception):
    """A dependency could not be reached or refused the call. `code` names the error, never data."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class StorageUnavailable(Unavailable):
    pass


class ArchiveUnavailable(Unavailable):
    pass


class QueueUnavailable(Unavailable):
    pass


class TokenUnavailable(Unavailable):
    pass


class TokenSource(Protocol):
    def expected_token(self) -> str:
        """The postback token. Raises TokenUnavailable."""
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
