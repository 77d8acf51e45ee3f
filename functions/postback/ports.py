"""What the postback service needs from the outside world. How each can fail is in
`functions.failures`. Every call takes a deadline (a time.monotonic() value) it must end by."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from functions.recordings.jobs import RecordingJob
from functions.reports.items import ReportItem
from functions.reports.links import Links


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

    def current(self, item: ReportItem, *, deadline: float) -> Mapping[str, Any] | None:
        """The item stored under `item`'s key (read consistently), as plain values; None when
        there is none. Raises StorageUnavailable."""
        ...

    def replace(
        self,
        item: ReportItem,
        stored: Mapping[str, Any],
        attributes: Mapping[str, Any],
        *,
        deadline: float,
    ) -> bool:
        """Write `attributes` over the stored item, only if it is still the version `stored`
        was read at; False when it changed meanwhile (or is gone). Attributes that did not
        change are not written, so concurrent updates of other attributes (`deliveries`, a
        recording's copy) are not lost. Raises StorageUnavailable."""
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
        extension: str = "xml",
        links: Links | None = None,
    ) -> str:
        """Store `body` (as received, still encoded) under `prefix`, with the reason and what
        replaying it needs in its metadata; the object key. `extension` says what the body is
        (`xml` from /postbacks, `json` from /webhooks); `links` (when the report could be read)
        index the body for erasure. Raises ArchiveUnavailable."""
        ...


class EventArchive(Protocol):
    def keep_event(self, key: str, event: str, *, received_at: datetime, deadline: float) -> bool:
        """Store one webhook event's JSON at `key` unless an object is there already; True when
        it was written now. Raises ArchiveUnavailable."""
        ...


class AlarmNotifier(Protocol):
    def notify(self, subject: str, message: str, *, deadline: float) -> None:
        """Tell the people watching the alarm topic. Raises NotificationUnavailable."""
        ...


class RecordingQueue(Protocol):
    def enqueue(self, jobs: Sequence[RecordingJob], *, deadline: float) -> None:
        """Queue every job. Raises QueueUnavailable."""
        ...
