"""The postback service's promises, with in-memory stand-ins for its ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from functions.postback.service import Outcome, Postback, PostbackService, Status
from functions.recordings.jobs import RecordingJob
from functions.reports import RejectReason
from functions.reports.links import ReportLinks
from tests.fakes import FakeSecret, InMemoryArchive, InMemoryQueue, InMemoryReportStore
from tests.helpers import event_body

TOKEN = "s3cret-token"
NOW = datetime(2026, 11, 28, 5, 26, 7, tzinfo=UTC)
DEADLINE = 1000.0
ARCHIVE_SECONDS = 2.5


@dataclass
class World:
    token: FakeSecret = field(default_factory=lambda: FakeSecret(TOKEN))
    store: InMemoryReportStore = field(default_factory=InMemoryReportStore)
    archive: InMemoryArchive = field(default_factory=InMemoryArchive)
    queue: InMemoryQueue = field(default_factory=InMemoryQueue)

    def receive(self, body: bytes, token: str | None = TOKEN, request_id: str = "r1") -> Outcome:
        service = PostbackService(
            token=self.token,
            store=self.store,
            archive=self.archive,
            queue=self.queue,
            max_body_bytes=256 * 1024,
            archive_seconds=ARCHIVE_SECONDS,
        )
        return service.receive(
            Postback(body=body, token=token, request_id=request_id, received_at=NOW),
            deadline=DEADLINE,
        )


@pytest.fixture
def world() -> World:
    return World()


CALL = event_body("call_finished.xml")


def test_report_is_stored_and_its_recordings_queued(world: World) -> None:
    outcome = world.receive(CALL)

    assert outcome.status is Status.STORED
    assert outcome.recordings_queued == 1
    assert list(world.store.items) == [("calls", "111111", "call")]
    assert world.queue.jobs == [
        RecordingJob(
            "111111", "call", "22222", 0, "https://www.callfire.com/cloud/1/files/recording/"
        )
    ]
    assert world.archive.kept == []


def test_the_work_leaves_the_archive_its_time_before_the_deadline(world: World) -> None:
    """Reading the token, writing the item and queueing the recordings end `archive_seconds`
    before the deadline; archiving a body that could not be stored may use that time."""
    world.receive(CALL)
    world.store.down = True
    world.receive(event_body("text_sent.xml"), request_id="r2")

    work = DEADLINE - ARCHIVE_SECONDS
    assert world.token.deadlines == [work, work]
    assert set(world.store.deadlines) == {work}
    assert world.queue.deadlines == [work]
    assert world.archive.deadlines == [DEADLINE]
    assert world.archive.kept[0][0] == "unstored/"


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN + "x", TOKEN.upper()])
def test_wrong_or_missing_token_touches_nothing(world: World, token: str | None) -> None:
    outcome = world.receive(CALL, token=token)

    assert outcome.status is Status.FORBIDDEN
    assert world.store.items == {}
    assert world.archive.kept == []
    assert world.queue.jobs == []


def test_unreadable_token_secret_is_unavailable_and_stores_nothing(world: World) -> None:
    world.token.down = True

    outcome = world.receive(CALL)

    assert outcome.status is Status.UNAVAILABLE
    assert (world.store.items, world.archive.kept) == ({}, [])


def test_duplicate_is_counted_not_stored_again(world: World) -> None:
    world.receive(CALL)
    outcome = world.receive(CALL, request_id="r2")

    assert outcome.status is Status.DUPLICATE
    assert len(world.store.items) == 1
    assert world.store.deliveries[("calls", "111111", "call")] == 2
    assert len(world.queue.jobs) == 1


def test_duplicate_still_answers_success_when_its_count_fails(world: World) -> None:
    world.receive(CALL)
    world.store.counting_down = True

    assert world.receive(CALL).status is Status.DUPLICATE


def test_same_key_with_different_content_is_archived_and_the_item_kept(world: World) -> None:
    world.receive(CALL)
    changed = CALL.replace(b"TRANSFER", b"BUSY")

    outcome = world.receive(changed, request_id="r2")

    assert outcome.status is Status.CONFLICT
    assert world.archive.kept == [("rejected/", changed, "conflicting_duplicate")]
    assert "TRANSFER" in world.store.items[("calls", "111111", "call")].raw


def test_refused_body_is_archived_with_its_reason(world: World) -> None:
    body = event_body("xxe_file.xml")

    outcome = world.receive(body)

    assert outcome.status is Status.REJECTED
    assert outcome.reason is RejectReason.FORBIDDEN_XML
    assert world.archive.kept == [("rejected/", body, "forbidden_xml")]


def test_refused_body_that_cannot_be_archived_is_not_refused_but_unavailable(world: World) -> None:
    world.archive.down = True

    assert world.receive(b"<nope").status is Status.UNAVAILABLE


def test_storage_down_archives_the_body_as_unstored(world: World) -> None:
    world.store.down = True

    outcome = world.receive(CALL)

    assert outcome.status is Status.UNAVAILABLE
    assert world.archive.kept == [("unstored/", CALL, "ProvisionedThroughputExceededException")]
    assert world.queue.jobs == []


def test_storage_and_archive_down_is_unavailable_and_writes_nothing(world: World) -> None:
    world.store.down = True
    world.archive.down = True

    outcome = world.receive(CALL)

    assert outcome.status is Status.UNAVAILABLE
    assert (world.store.items, world.archive.kept, world.queue.jobs) == ({}, [], [])


def test_queue_down_still_stores_the_report_and_says_so(world: World) -> None:
    world.queue.down = True

    outcome = world.receive(CALL)

    assert outcome.status is Status.STORED
    assert (outcome.recordings_queued, outcome.recordings_unqueued) == (0, 1)
    assert len(world.store.items) == 1


def test_unexpected_error_keeps_the_body_for_replay(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("functions.postback.service.read_postback", broken)

    outcome = world.receive(CALL)

    assert outcome.status is Status.FAILED
    assert world.archive.kept == [("unstored/", CALL, "internal_error")]


def test_archived_bodies_whose_report_was_read_carry_its_links(world: World) -> None:
    """Erasure finds these bodies by phone number, call id or campaign id without reading them."""
    world.receive(CALL, request_id="first")
    world.receive(CALL.replace(b"TRANSFER", b"LA"), request_id="conflict")
    world.store.down = True
    world.receive(CALL.replace(b"111111", b"222222"), request_id="unstored")

    assert [kept[0] for kept in world.archive.kept] == ["rejected/", "unstored/"]
    assert world.archive.links == [
        ReportLinks(("2132212289", "8778973473"), "111111", "22222"),
        ReportLinks(("2132212289", "8778973473"), "222222", "22222"),
    ]


def test_a_body_that_could_not_be_read_is_archived_without_links(world: World) -> None:
    world.receive(b"<call-finished><callid>1</callid>")

    assert world.archive.links == [None]
