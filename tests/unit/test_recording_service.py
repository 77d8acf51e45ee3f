"""The copy rules with in-memory ports: what is done already is not done again, permanent failures
are recorded, transient ones are left to the queue."""

from __future__ import annotations

from typing import Any

import pytest

from functions.recordings.jobs import RecordingJob
from functions.recordings.ports import CannotCopy, RetryLater, StoredRecording
from functions.recordings.service import CopyResult, QueuedJob, RecordingCopier
from tests.fakes import (
    FakeDownload,
    FakeSource,
    InMemoryEntries,
    InMemoryRecordingStore,
    RecordedVisibility,
)

URL = "https://www.callfire.com/cloud/1/files/recording/7"
JOB = RecordingJob("111", "call", "22", 1, URL)
MAX_RECEIVES = 5


def copier(
    source: FakeSource,
    store: InMemoryRecordingStore | None = None,
    status: str = "PENDING",
    visibility: RecordedVisibility | None = None,
) -> tuple[RecordingCopier, InMemoryEntries, InMemoryRecordingStore]:
    entries = InMemoryEntries({1: {"url": URL, "status": status}})
    store = store or InMemoryRecordingStore()
    service = RecordingCopier(
        source=source,
        store=store,
        entries=entries,
        visibility=visibility or RecordedVisibility(),
        max_receives=MAX_RECEIVES,
    )
    return service, entries, store


def test_a_recording_is_streamed_to_its_key_and_recorded_on_its_entry() -> None:
    download = FakeDownload(b"ID3" + b"\x00" * 10, "audio/mpeg")
    service, entries, store = copier(FakeSource(download))

    outcome = service.copy(JOB, deadline=0)

    assert outcome.result is CopyResult.COPIED
    assert outcome.stored == StoredRecording("recordings/22/111/1.mp3", "audio/mpeg", 13)
    assert store.objects == {"recordings/22/111/1.mp3": (download.body, "audio/mpeg", URL)}
    assert entries.entries[1] == {
        "url": URL,
        "status": "COPIED",
        "s3Key": "recordings/22/111/1.mp3",
        "contentType": "audio/mpeg",
        "bytes": 13,
    }
    assert download.closed


def test_a_copied_entry_is_not_fetched_again() -> None:
    source = FakeSource(FakeDownload(b"x", "audio/x-wav"))
    service, entries, store = copier(source, status="COPIED")

    assert service.copy(JOB, deadline=0).result is CopyResult.ALREADY_COPIED
    assert source.opened == []
    assert store.objects == {}
    assert entries.entries[1] == {"url": URL, "status": "COPIED"}


def test_an_object_stored_earlier_is_kept_and_recorded_on_the_entry() -> None:
    source = FakeSource(FakeDownload(b"x", "audio/x-wav"))
    earlier = InMemoryRecordingStore({"recordings/22/111/1.wav": (b"RIFF", "audio/x-wav", URL)})
    service, entries, _ = copier(source, earlier)

    assert service.copy(JOB, deadline=0).result is CopyResult.COPIED
    assert earlier.objects["recordings/22/111/1.wav"][0] == b"RIFF"
    assert entries.entries[1]["s3Key"] == "recordings/22/111/1.wav"
    assert entries.entries[1]["bytes"] == 4


@pytest.mark.parametrize(
    "found", [{}, {1: {"url": "https://www.callfire.com/other", "status": "PENDING"}}]
)
def test_a_job_without_its_entry_is_skipped(found: dict[int, dict[str, Any]]) -> None:
    source = FakeSource(FakeDownload(b"x", "audio/x-wav"))
    service, entries, store = copier(source)
    entries.entries = found

    assert service.copy(JOB, deadline=0).result is CopyResult.SKIPPED
    assert source.opened == []
    assert store.objects == {}


def test_a_permanent_failure_marks_the_entry_failed_with_its_reason() -> None:
    service, entries, store = copier(FakeSource(CannotCopy("HTTP 404 from somewhere")))

    outcome = service.copy(JOB, deadline=0)

    assert (outcome.result, outcome.reason) == (CopyResult.FAILED, "HTTP 404 from somewhere")
    assert entries.entries[1] == {"url": URL, "status": "FAILED", "reason": outcome.reason}
    assert store.objects == {}


def test_an_error_page_is_not_stored_as_a_recording() -> None:
    service, entries, store = copier(FakeSource(FakeDownload(b"<html/>", "text/html")))

    assert service.copy(JOB, deadline=0).result is CopyResult.FAILED
    assert entries.entries[1]["reason"] == "the answer is text/html, not a recording"
    assert store.objects == {}


def test_a_transient_failure_changes_nothing_and_reaches_the_caller() -> None:
    service, entries, store = copier(FakeSource(RetryLater("HTTP 503")))

    with pytest.raises(RetryLater, match="503"):
        service.copy(JOB, deadline=0)
    assert entries.entries[1] == {"url": URL, "status": "PENDING"}
    assert store.objects == {}


def test_a_failure_after_a_concurrent_copy_leaves_the_copy_alone() -> None:
    """Another delivery of the same job copies the recording while this one fails: the entry
    stays COPIED, and this attempt is a skip, not a failure."""
    copied_elsewhere = {"url": URL, "status": "COPIED", "s3Key": "recordings/22/111/1.wav"}
    source = FakeSource(CannotCopy("HTTP 404"))
    service, entries, _ = copier(source)
    source.during = lambda: entries.entries[1].update(copied_elsewhere)

    outcome = service.copy(JOB, deadline=0)

    assert outcome.result is CopyResult.SKIPPED
    assert entries.entries[1] == copied_elsewhere


def message(body: str = JOB.to_message(), receive_count: int = 1) -> QueuedJob:
    return QueuedJob(body=body, receipt_handle="handle-1", receive_count=receive_count)


def test_a_message_is_copied_and_its_visibility_left_alone() -> None:
    visibility = RecordedVisibility()
    service, _, _ = copier(FakeSource(FakeDownload(b"RIFF", "audio/x-wav")), visibility=visibility)

    outcome = service.handle(message(), deadline=0)

    assert outcome.result is CopyResult.COPIED
    assert not outcome.returns_to_queue
    assert visibility.hidden == []


@pytest.mark.parametrize(("receive_count", "earliest", "latest"), [(1, 48, 60), (2, 192, 240)])
def test_a_transient_failure_hides_the_message_for_its_back_off(
    receive_count: int, earliest: int, latest: int
) -> None:
    visibility = RecordedVisibility()
    service, entries, _ = copier(FakeSource(RetryLater("HTTP 503")), visibility=visibility)

    outcome = service.handle(message(receive_count=receive_count), deadline=0)

    assert outcome.result is CopyResult.RETRYING
    assert outcome.returns_to_queue
    assert outcome.reason == "HTTP 503"
    ((handle, seconds),) = visibility.hidden
    assert handle == "handle-1"
    assert earliest <= seconds <= latest
    assert outcome.retry_in_seconds == seconds
    assert entries.entries[1]["status"] == "PENDING"


def test_the_server_s_retry_after_is_honoured() -> None:
    visibility = RecordedVisibility()
    service, _, _ = copier(
        FakeSource(RetryLater("HTTP 429", retry_after=900)), visibility=visibility
    )

    service.handle(message(), deadline=0)

    assert visibility.hidden == [("handle-1", 900)]


def test_after_the_last_attempt_the_entry_fails_and_the_message_goes_to_dead_letters() -> None:
    visibility = RecordedVisibility()
    service, entries, _ = copier(FakeSource(RetryLater("HTTP 503")), visibility=visibility)

    outcome = service.handle(message(receive_count=MAX_RECEIVES), deadline=0)

    assert (outcome.result, outcome.returns_to_queue) == (CopyResult.FAILED, True)
    assert visibility.hidden == [("handle-1", 0)]
    assert entries.entries[1]["status"] == "FAILED"
    assert entries.entries[1]["reason"] == "not copied after 5 attempts: HTTP 503"


def test_a_last_attempt_that_cannot_mark_the_entry_still_goes_to_dead_letters() -> None:
    class Unwritable(InMemoryEntries):
        def mark_failed(self, job: RecordingJob, reason: str, *, deadline: float) -> bool:
            raise RetryLater("DynamoDB throttled")

    visibility = RecordedVisibility()
    entries = Unwritable({1: {"url": URL, "status": "PENDING"}})
    service = RecordingCopier(
        source=FakeSource(RetryLater("HTTP 503")),
        store=InMemoryRecordingStore(),
        entries=entries,
        visibility=visibility,
        max_receives=MAX_RECEIVES,
    )

    outcome = service.handle(message(receive_count=MAX_RECEIVES), deadline=0)

    assert (outcome.result, outcome.returns_to_queue) == (CopyResult.RETRYING, True)
    assert visibility.hidden == [("handle-1", 0)]
    assert entries.entries[1]["status"] == "PENDING"


def test_an_unexpected_error_is_retried_like_a_transient_one(log_output: list[str]) -> None:
    visibility = RecordedVisibility()
    service, entries, _ = copier(FakeSource(RuntimeError("a bug")), visibility=visibility)

    outcome = service.handle(message(), deadline=0)

    assert (outcome.result, outcome.reason) == (CopyResult.RETRYING, "unexpected failure")
    assert len(visibility.hidden) == 1
    assert entries.entries[1]["status"] == "PENDING"
    assert any("unexpected failure copying a recording" in line for line in log_output)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "{}",
        '{"callId": "", "eventType": "call", "index": 0, "url": "https://x"}',
        '{"callId": "1", "eventType": "call", "index": -1, "url": "https://x"}',
    ],
)
def test_a_malformed_message_comes_back_at_once_and_copies_nothing(body: str) -> None:
    visibility = RecordedVisibility()
    source = FakeSource(FakeDownload(b"RIFF", "audio/x-wav"))
    service, _, store = copier(source, visibility=visibility)

    outcome = service.handle(message(body), deadline=0)

    assert outcome.result is CopyResult.MALFORMED
    assert outcome.returns_to_queue
    assert visibility.hidden == [("handle-1", 0)]
    assert (source.opened, store.objects) == ([], {})


# v2 recordings: fetched by id from CallFire's v2 endpoint, once CallFire says they are READY.

V2_URL = "https://api.callfire.com/calls/recordings/2033"
V2_JOB = RecordingJob("111", "call", "22", 1, V2_URL)
V2_ENDPOINT = "https://api.callfire.com/v2/calls/recordings"


class FakeStates:
    def __init__(self, state: str | None) -> None:
        self.state_now = state
        self.asked: list[str] = []

    def state(self, recording_id: str, *, deadline: float) -> str | None:
        self.asked.append(recording_id)
        return self.state_now


def v2_copier(
    source: FakeSource, delivered_state: str, state_now: str | None
) -> tuple[RecordingCopier, InMemoryEntries, FakeStates]:
    entries = InMemoryEntries(
        {
            1: {
                "url": V2_URL,
                "status": "PENDING",
                "recordingId": "2033",
                "recordingState": delivered_state,
            }
        }
    )
    states = FakeStates(state_now)
    service = RecordingCopier(
        source=source,
        store=InMemoryRecordingStore(),
        entries=entries,
        visibility=RecordedVisibility(),
        max_receives=MAX_RECEIVES,
        states=states,
        v2_recordings_url=V2_ENDPOINT,
    )
    return service, entries, states


def test_a_v2_recording_delivered_ready_is_fetched_from_the_v2_endpoint() -> None:
    source = FakeSource(FakeDownload(b"ID3", "audio/mpeg"))
    service, entries, states = v2_copier(source, "READY", None)

    assert service.copy(V2_JOB, deadline=0).result is CopyResult.COPIED
    assert source.opened == [f"{V2_ENDPOINT}/2033.mp3"]
    assert states.asked == []
    assert entries.entries[1]["url"] == V2_URL


def test_a_v2_recording_delivered_recording_is_fetched_once_callfire_has_it() -> None:
    source = FakeSource(FakeDownload(b"ID3", "audio/mpeg"))
    service, _, states = v2_copier(source, "RECORDING", "RECORDING")

    with pytest.raises(RetryLater, match="still recording"):
        service.copy(V2_JOB, deadline=0)
    states.state_now = "READY"
    assert service.copy(V2_JOB, deadline=0).result is CopyResult.COPIED
    assert states.asked == ["2033", "2033"]
    assert source.opened == [f"{V2_ENDPOINT}/2033.mp3"]


def test_a_v2_recording_callfire_now_reports_in_error_is_failed() -> None:
    source = FakeSource(FakeDownload(b"ID3", "audio/mpeg"))
    service, entries, _ = v2_copier(source, "RECORDING", "ERROR")

    assert service.copy(V2_JOB, deadline=0).result is CopyResult.FAILED
    assert entries.entries[1]["reason"] == "CallFire reports the recording's state as ERROR"
    assert source.opened == []
