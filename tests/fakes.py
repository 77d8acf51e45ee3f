"""In-memory stand-ins for the services' ports, shared by every test that needs one.

Each keeps what was done to it in plain attributes the tests read, and fails on demand (`down`)
with the error its real adapter raises, so a test states the situation and checks the outcome.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self
from urllib.parse import parse_qs

from functions.events.mapping import BusEvent
from functions.events.ports import NotPut
from functions.failures import (
    ArchiveUnavailable,
    NotificationUnavailable,
    QueueUnavailable,
    SecretUnavailable,
    StatusUnavailable,
    StorageUnavailable,
)
from functions.names import Item, RecordingEntry, RecordingStatus
from functions.recordings.jobs import RecordingJob
from functions.recordings.ports import CannotCopy, Readable, StoredRecording
from functions.registration.ports import HttpAnswer, NoAnswer
from functions.reports.items import ReportItem
from functions.reports.links import Links


@dataclass
class ManualClock:
    """A clock that moves only when told to (or when something sleeps on it)."""

    now: float = 1000.0
    pauses: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


# The postback service's ports.


@dataclass
class FakeSecret:
    """One secret's value (the postback token)."""

    secret: str = "s3cret-token"
    down: bool = False
    reads: int = 0

    deadlines: list[float] = field(default_factory=list)

    def value(self, *, deadline: float) -> str:
        self.reads += 1
        self.deadlines.append(deadline)
        if self.down:
            raise SecretUnavailable("ServiceUnavailable")
        return self.secret


@dataclass
class InMemoryReportStore:
    items: dict[tuple[str, ...], ReportItem] = field(default_factory=dict)
    deliveries: dict[tuple[str, ...], int] = field(default_factory=dict)
    replaced: list[Mapping[str, Any]] = field(default_factory=list)
    down: bool = False
    counting_down: bool = False
    deadlines: list[float] = field(default_factory=list)
    """The deadline of every call."""

    @staticmethod
    def key_of(item: ReportItem) -> tuple[str, ...]:
        return (item.table, *item.key.values())

    def insert(self, item: ReportItem, *, deadline: float) -> str | None:
        self.deadlines.append(deadline)
        if self.down:
            raise StorageUnavailable("ProvisionedThroughputExceededException")
        key = self.key_of(item)
        if key in self.items:
            return self.items[key].body_sha256
        self.items[key] = item
        self.deliveries[key] = 1
        return None

    def count_delivery(self, item: ReportItem, *, deadline: float) -> None:
        self.deadlines.append(deadline)
        if self.counting_down:
            raise StorageUnavailable("ThrottlingException")
        self.deliveries[self.key_of(item)] += 1

    def current(self, item: ReportItem, *, deadline: float) -> Mapping[str, Any] | None:
        self.deadlines.append(deadline)
        if self.down:
            raise StorageUnavailable("ProvisionedThroughputExceededException")
        stored = self.items.get(self.key_of(item))
        if stored is None:
            return None
        return {**stored.attributes, Item.DELIVERIES: self.deliveries[self.key_of(item)]}

    def replace(
        self,
        item: ReportItem,
        stored: Mapping[str, Any],
        attributes: Mapping[str, Any],
        *,
        deadline: float,
    ) -> bool:
        """As DynamoDB's conditional update: only while `version` is what was read."""
        now = self.current(item, deadline=deadline)
        if now is None or now.get(Item.VERSION) != stored.get(Item.VERSION):
            return False
        kept = {name: value for name, value in attributes.items() if name != Item.DELIVERIES}
        self.items[self.key_of(item)] = ReportItem(item.table, item.key, kept)
        self.replaced.append(kept)
        return True


@dataclass
class InMemoryArchive:
    kept: list[tuple[str, bytes, str]] = field(default_factory=list)
    """(prefix, body, reason) of every body kept."""
    details: list[str] = field(default_factory=list)
    links: list[Links | None] = field(default_factory=list)
    """The links each body was kept with, in the same order."""
    down: bool = False
    deadlines: list[float] = field(default_factory=list)

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
        self.deadlines.append(deadline)
        if self.down:
            raise ArchiveUnavailable("SlowDown")
        self.kept.append((prefix, body, reason))
        self.details.append(detail)
        self.links.append(links)
        return f"{prefix}{received_at:%Y/%m/%d}/{request_id}.{extension}"


@dataclass
class InMemoryEvents:
    """Webhook events of other resource types, by key; each key written once."""

    events: dict[str, str] = field(default_factory=dict)
    down: bool = False
    deadlines: list[float] = field(default_factory=list)

    def keep_event(self, key: str, event: str, *, received_at: datetime, deadline: float) -> bool:
        self.deadlines.append(deadline)
        if self.down:
            raise ArchiveUnavailable("SlowDown")
        if key in self.events:
            return False
        self.events[key] = event
        return True


@dataclass
class RecordedNotifier:
    messages: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False
    deadlines: list[float] = field(default_factory=list)

    def notify(self, subject: str, message: str, *, deadline: float) -> None:
        self.deadlines.append(deadline)
        if self.down:
            raise NotificationUnavailable("InternalError")
        self.messages.append((subject, message))


@dataclass
class InMemoryQueue:
    jobs: list[RecordingJob] = field(default_factory=list)
    down: bool = False
    deadlines: list[float] = field(default_factory=list)

    def enqueue(self, jobs: Sequence[RecordingJob], *, deadline: float) -> None:
        self.deadlines.append(deadline)
        if self.down:
            raise QueueUnavailable("AWS.SimpleQueueService.NonExistentQueue")
        self.jobs.extend(jobs)


# The recordings service's ports.


@dataclass
class FakeDownload:
    body: bytes
    content_type: str | None
    url: str = "https://www.callfire.com/cloud/1/files/recording/7"
    closed: bool = False

    def __post_init__(self) -> None:
        self._stream = io.BytesIO(self.body)

    def readinto(self, buffer: memoryview) -> int:
        return self._stream.readinto(buffer)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.closed = True


@dataclass
class FakeSource:
    """Answers every GET with `answer`: a download, or the error to raise. `during` runs when a
    download is opened: what happens elsewhere while this copy is under way."""

    answer: FakeDownload | Exception
    during: Callable[[], None] = lambda: None
    opened: list[str] = field(default_factory=list)

    def open(self, url: str, *, deadline: float) -> FakeDownload:
        self.opened.append(url)
        self.during()
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@dataclass
class InMemoryRecordingStore:
    objects: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)
    """key: (body, content type, source URL)."""

    def put(
        self, key: str, body: Readable, *, content_type: str, source: str, deadline: float
    ) -> StoredRecording:
        if key in self.objects:
            earlier, earlier_type, earlier_source = self.objects[key]
            if earlier_source != source:
                raise CannotCopy(f"{key} already holds a recording from another URL")
            return StoredRecording(key, earlier_type, len(earlier))
        data = bytearray()
        buffer = bytearray(3)
        while count := body.readinto(memoryview(buffer)):
            data += buffer[:count]
        self.objects[key] = (bytes(data), content_type, source)
        return StoredRecording(key, content_type, len(data))


@dataclass
class InMemoryEntries:
    """A call item's `recordings` list by index, updated under the same conditions DynamoDB
    checks: the entry's URL must be the job's, and a COPIED entry is never marked FAILED."""

    entries: dict[int, dict[str, Any]]

    def entry(self, job: RecordingJob, *, deadline: float) -> Mapping[str, Any] | None:
        return self.entries.get(job.index)

    def mark_copied(self, job: RecordingJob, stored: StoredRecording, *, deadline: float) -> bool:
        entry = self.entries.get(job.index)
        if entry is None or entry.get(RecordingEntry.URL) != job.url:
            return False
        entry.pop(RecordingEntry.REASON, None)
        entry.update(
            {
                RecordingEntry.STATUS: RecordingStatus.COPIED,
                RecordingEntry.S3_KEY: stored.key,
                RecordingEntry.CONTENT_TYPE: stored.content_type,
                RecordingEntry.BYTES: stored.size,
            }
        )
        return True

    def mark_failed(self, job: RecordingJob, reason: str, *, deadline: float) -> bool:
        entry = self.entries.get(job.index)
        if (
            entry is None
            or entry.get(RecordingEntry.URL) != job.url
            or entry.get(RecordingEntry.STATUS) == RecordingStatus.COPIED
        ):
            return False
        entry.update({RecordingEntry.STATUS: RecordingStatus.FAILED, RecordingEntry.REASON: reason})
        return True


@dataclass
class RecordedVisibility:
    hidden: list[tuple[str, int]] = field(default_factory=list)
    """(receipt handle, seconds) of every change."""

    def hide(self, receipt_handle: str, seconds: int, *, deadline: float) -> None:
        self.hidden.append((receipt_handle, seconds))


# The registration service's ports.


@dataclass
class FakeSecrets:
    """Secret strings by ARN."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def secret_string(self, secret_arn: str, *, deadline: float) -> str:
        self.reads.append(secret_arn)
        if secret_arn in self.errors:
            raise SecretUnavailable(self.errors[secret_arn])
        return self.values[secret_arn]


@dataclass
class ScriptedPoster:
    """Answers in order; the last one again once the script runs out. Each call takes
    `seconds_per_call` on `clock`, and a NoAnswer the whole timeout."""

    script: list[HttpAnswer | NoAnswer]
    clock: ManualClock
    seconds_per_call: float = 0.1
    calls: list[tuple[str, dict[str, list[str]], float]] = field(default_factory=list)

    def post_form(self, url: str, form: bytes, *, timeout: float) -> HttpAnswer:
        self.calls.append((url, parse_qs(form.decode()), timeout))
        self.clock.advance(self.seconds_per_call)
        outcome = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(outcome, NoAnswer):
            self.clock.advance(timeout)
            raise outcome
        return outcome


@dataclass
class RecordedStatus:
    """What the registration recorded for `make status`, in order; `error` makes it fail."""

    records: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def record(self, record: Mapping[str, Any], *, deadline: float) -> None:
        if self.error:
            raise StatusUnavailable(self.error)
        self.records.append(dict(record))


# The events service's port.


@dataclass
class FakeEventBus:
    """Keeps every event put. `answers` scripts the outcome of the next calls: each is a function
    of an event that answers None (put) or a NotPut; once they are used up, every event is put."""

    put: list[BusEvent] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    answers: list[Callable[[BusEvent], NotPut | None]] = field(default_factory=list)

    def publish(self, events: Sequence[BusEvent], *, deadline: float) -> list[NotPut | None]:
        from tests.events_out import validate_detail

        for event in events:
            validate_detail(event)
        self.calls.append(len(events))
        answer = self.answers.pop(0) if self.answers else (lambda _: None)
        outcomes = [answer(event) for event in events]
        self.put += [event for event, outcome in zip(events, outcomes, strict=True) if not outcome]
        return outcomes


# The webhook registration's and health's port: CallFire's v2 webhooks API.


@dataclass
class FakeCallfireWebhooks:
    """Webhooks by id, as CallFire keeps them; `down` fails every call as unreachable,
    `refuse` with the given HTTP status."""

    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    down: bool = False
    refuse: int | None = None
    next_id: int = 100

    def _called(self, operation: str, argument: Any) -> None:
        from functions.webhook_registration.ports import CallfireRefused, CallfireUnavailable

        self.calls.append((operation, argument))
        if self.down:
            raise CallfireUnavailable("CallFire could not be reached (timed out)")
        if self.refuse is not None:
            raise CallfireRefused(self.refuse, f"CallFire answered HTTP {self.refuse}")

    def find(self, name: str) -> list[Mapping[str, Any]]:
        self._called("find", name)
        return [dict(webhook) for webhook in self.webhooks.values() if webhook["name"] == name]

    def create(self, body: Mapping[str, Any]) -> int:
        self._called("create", dict(body))
        self.next_id += 1
        self.webhooks[self.next_id] = {"id": self.next_id, **body}
        return self.next_id

    def update(self, webhook_id: int, body: Mapping[str, Any]) -> None:
        self._called("update", (webhook_id, dict(body)))
        self.webhooks[webhook_id].update(body)

    def delete(self, webhook_id: int) -> None:
        self._called("delete", webhook_id)
        self.webhooks.pop(webhook_id, None)

    def writes(self) -> list[tuple[str, Any]]:
        return [call for call in self.calls if call[0] != "find"]
