"""The copy rules with in-memory ports: what is done already is not done again, permanent failures
are recorded, transient ones are left to the queue."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import pytest

from functions.recordings.jobs import RecordingJob
from functions.recordings.ports import (
    CannotCopy,
    Readable,
    RetryLater,
    StoredRecording,
)
from functions.recordings.service import RecordingCopier, Result

URL = "https://www.callfire.com/cloud/1/files/recording/7"
JOB = RecordingJob("111", "call", "22", 1, URL)


@dataclass
class FakeDownload:
    body: bytes
    content_type: str | None
    url: str = URL
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
    answer: FakeDownload | Exception
    opened: list[str] = field(default_factory=list)

    def open(self, url: str, *, deadline: float) -> FakeDownload:
        self.opened.append(url)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@dataclass
class FakeStore:
    objects: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)

    def put(self, key: str, body: Readable, *, content_type: str, source: str) -> StoredRecording:
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
class FakeEntries:
    entries: dict[int, dict[str, Any]]
    copied: list[StoredRecording] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def entry(self, job: RecordingJob) -> Mapping[str, Any] | None:
        return self.entries.get(job.index)

    def mark_copied(self, job: RecordingJob, stored: StoredRecording) -> bool:
        self.copied.append(stored)
        self.entries[job.index].update(status="COPIED", s3Key=stored.key)
        return True

    def mark_failed(self, job: RecordingJob, reason: str) -> bool:
        if self.entries[job.index]["status"] == "COPIED":
            return False
        self.failed.append(reason)
        self.entries[job.index].update(status="FAILED", reason=reason)
        return True


def copier(
    source: FakeSource, store: FakeStore | None = None, status: str = "PENDING"
) -> tuple[RecordingCopier, FakeEntries, FakeStore]:
    entries = FakeEntries({1: {"url": URL, "status": status}})
    store = store or FakeStore()
    return RecordingCopier(source=source, store=store, entries=entries), entries, store


def test_a_recording_is_streamed_to_its_key_and_recorded_on_its_entry() -> None:
    download = FakeDownload(b"ID3" + b"\x00" * 10, "audio/mpeg")
    service, entries, store = copier(FakeSource(download))

    outcome = service.copy(JOB, deadline=0)

    assert outcome.result is Result.COPIED
    assert store.objects == {"recordings/22/111/1.mp3": (download.body, "audio/mpeg", URL)}
    assert entries.copied == [StoredRecording("recordings/22/111/1.mp3", "audio/mpeg", 13)]
    assert download.closed


def test_a_copied_entry_is_not_fetched_again() -> None:
    source = FakeSource(FakeDownload(b"x", "audio/x-wav"))
    service, entries, store = copier(source, status="COPIED")

    assert service.copy(JOB, deadline=0).result is Result.ALREADY_COPIED
    assert source.opened == []
    assert store.objects == {}
    assert entries.copied == []


def test_an_object_stored_earlier_is_kept_and_recorded_on_the_entry() -> None:
    source = FakeSource(FakeDownload(b"x", "audio/x-wav"))
    earlier = FakeStore({"recordings/22/111/1.wav": (b"RIFF", "audio/x-wav", URL)})
    service, entries, _ = copier(source, earlier)

    assert service.copy(JOB, deadline=0).result is Result.COPIED
    assert earlier.objects["recordings/22/111/1.wav"][0] == b"RIFF"
    assert entries.copied == [StoredRecording("recordings/22/111/1.wav", "audio/x-wav", 4)]


@pytest.mark.parametrize(
    "entries", [{}, {1: {"url": "https://www.callfire.com/other", "status": "PENDING"}}]
)
def test_a_job_without_its_entry_is_skipped(entries: dict[int, dict[str, Any]]) -> None:
    source = FakeSource(FakeDownload(b"x", "audio/x-wav"))
    service = RecordingCopier(source=source, store=FakeStore(), entries=FakeEntries(entries))

    assert service.copy(JOB, deadline=0).result is Result.SKIPPED
    assert source.opened == []


def test_a_permanent_failure_marks_the_entry_failed_with_its_reason() -> None:
    service, entries, store = copier(FakeSource(CannotCopy("HTTP 404 from somewhere")))

    outcome = service.copy(JOB, deadline=0)

    assert (outcome.result, outcome.reason) == (Result.FAILED, "HTTP 404 from somewhere")
    assert entries.entries[1] == {"url": URL, "status": "FAILED", "reason": outcome.reason}
    assert store.objects == {}


def test_an_error_page_is_not_stored_as_a_recording() -> None:
    service, entries, store = copier(FakeSource(FakeDownload(b"<html/>", "text/html")))

    assert service.copy(JOB, deadline=0).result is Result.FAILED
    assert entries.failed == ["the answer is text/html, not a recording"]
    assert store.objects == {}


def test_a_transient_failure_changes_nothing_and_reaches_the_caller() -> None:
    service, entries, store = copier(FakeSource(RetryLater("HTTP 503")))

    with pytest.raises(RetryLater, match="503"):
        service.copy(JOB, deadline=0)
    assert entries.entries[1] == {"url": URL, "status": "PENDING"}
    assert store.objects == {}


def test_a_failure_after_a_concurrent_copy_leaves_the_copy_alone() -> None:
    service, entries, _ = copier(FakeSource(CannotCopy("HTTP 404")))
    entries.entries[1]["status"] = "FAILED"
    entries.mark_failed = lambda *_: False  # type: ignore[method-assign]

    assert service.copy(JOB, deadline=0).result is Result.SKIPPED
