"""The webhooks service's promises, with in-memory stand-ins for its ports: nothing kept without
the signature, every event stored, kept or archived before the answer, a delivery half-stored and
sent again stored whole without duplicates."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.postback.delivery import EventResult, event_key
from functions.postback.signature import signature_of
from functions.postback.webhooks import (
    OUT_OF_TIME,
    DeliveryOutcome,
    DeliveryStatus,
    WebhookRequest,
    WebhookService,
)
from functions.reports import RejectReason
from functions.reports.webhook_json import OtherEvent
from tests.fakes import (
    FakeSecret,
    InMemoryArchive,
    InMemoryEvents,
    InMemoryQueue,
    InMemoryReportStore,
    ManualClock,
    RecordedNotifier,
)
from tests.helpers import EVENTS

SECRET = "webhook-s3cret"
NOW = datetime(2026, 11, 28, 5, 26, 7, tzinfo=UTC)
CALL = (EVENTS / "v2" / "outbound_call_finished.json").read_bytes()
TEXT = (EVENTS / "v2" / "outbound_text_finished.json").read_bytes()


def events_of(*names: str) -> list[Any]:
    return [json.loads((EVENTS / "v2" / name).read_text())["events"][0] for name in names]


def delivery(*events: Any) -> bytes:
    return json.dumps({"timestamp": 1, "webhookId": 9, "events": list(events)}).encode()


def call(call_id: int, **resource: Any) -> dict[str, Any]:
    (event,) = events_of("outbound_call_finished.json")
    event["resource"] = {**event["resource"], "id": call_id, **resource}
    return event


@dataclass
class World:
    secret: FakeSecret = field(default_factory=lambda: FakeSecret(SECRET))
    store: InMemoryReportStore = field(default_factory=InMemoryReportStore)
    archive: InMemoryArchive = field(default_factory=InMemoryArchive)
    events: InMemoryEvents = field(default_factory=InMemoryEvents)
    queue: InMemoryQueue = field(default_factory=InMemoryQueue)
    notifier: RecordedNotifier = field(default_factory=RecordedNotifier)
    clock: ManualClock = field(default_factory=ManualClock)
    archive_seconds: float = 0.0

    def receive(
        self,
        body: bytes,
        *,
        signature: str | None = None,
        deadline: float | None = None,
        request_id: str = "r1",
    ) -> DeliveryOutcome:
        service = WebhookService(
            secret=self.secret,
            store=self.store,
            archive=self.archive,
            events=self.events,
            queue=self.queue,
            notifier=self.notifier,
            max_body_bytes=256 * 1024,
            archive_seconds=self.archive_seconds,
            clock=self.clock,
        )
        return service.receive(
            WebhookRequest(
                body=body,
                signature=signature if signature is not None else signature_of(SECRET, body),
                request_id=request_id,
                received_at=NOW,
                deadline=deadline if deadline is not None else self.clock.now + 25,
            )
        )

    def stored_ids(self) -> set[str]:
        return {key[1] for key in self.store.items}


@pytest.fixture
def world() -> World:
    return World()


def test_a_signed_delivery_is_stored(world: World) -> None:
    outcome = world.receive(CALL)

    assert outcome.status is DeliveryStatus.ACCEPTED
    assert (outcome.events, dict(outcome.results)) == (1, {EventResult.STORED: 1})
    assert list(world.store.items) == [("calls", "1024990109003", "call")]
    assert world.archive.kept == []


@pytest.mark.parametrize("signature", ["", "wrong", signature_of("other-secret", CALL)])
def test_a_missing_or_wrong_signature_keeps_nothing(world: World, signature: str) -> None:
    outcome = world.receive(CALL, signature=signature)

    assert outcome.status is DeliveryStatus.FORBIDDEN
    assert world.store.items == {}
    assert world.archive.kept == []
    assert world.events.events == {}


def test_a_signature_over_other_bytes_keeps_nothing(world: World) -> None:
    outcome = world.receive(CALL, signature=signature_of(SECRET, CALL.strip() + b" "))

    assert outcome.status is DeliveryStatus.FORBIDDEN
    assert (world.store.items, world.archive.kept) == ({}, [])


def test_the_signature_is_checked_before_the_body_is_read(world: World) -> None:
    outcome = world.receive(b"x" * (300 * 1024), signature="forged")

    assert outcome.status is DeliveryStatus.FORBIDDEN
    assert world.archive.kept == []


@pytest.mark.parametrize("value", ["", None])
def test_an_unreadable_or_empty_secret_keeps_nothing(world: World, value: str | None) -> None:
    world.secret.secret = value or ""
    world.secret.down = value is None

    outcome = world.receive(CALL, signature=signature_of("", CALL))

    assert outcome.status is DeliveryStatus.UNAVAILABLE
    assert (world.store.items, world.archive.kept) == ({}, [])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", RejectReason.NOT_WELL_FORMED),
        (b'{"webhookId": 1}', RejectReason.NO_EVENTS),
        (b'{"events": []}', RejectReason.UNKNOWN_REPORT),
        (b'{"events": [' + b",".join([b"{}"] * 10_000) + b"]}", RejectReason.TOO_LARGE),
        (b'{"events": [{}], "pad": "' + b"x" * (256 * 1024) + b'"}', RejectReason.TOO_LARGE),
    ],
)
def test_a_refused_body_is_archived_as_json_with_its_reason(
    world: World, body: bytes, reason: RejectReason
) -> None:
    outcome = world.receive(body)

    assert (outcome.status, outcome.reason) == (DeliveryStatus.REJECTED, reason)
    assert world.archive.kept == [("rejected/", body, reason.value)]


def test_every_event_of_a_delivery_is_stored(world: World) -> None:
    body = delivery(call(1), call(2), *events_of("outbound_text_finished.json"))

    outcome = world.receive(body)

    assert dict(outcome.results) == {EventResult.STORED: 3}
    assert world.stored_ids() == {"1", "2", "1023905054003"}


def test_a_delivery_sent_again_counts_a_delivery_on_each_item(world: World) -> None:
    body = delivery(call(1), call(2))
    world.receive(body)

    outcome = world.receive(body, request_id="r2")

    assert dict(outcome.results) == {EventResult.DUPLICATE: 2}
    assert sorted(world.store.deliveries.values()) == [2, 2]


def test_a_delivery_half_stored_and_sent_again_stores_the_rest_without_duplicates(
    world: World,
) -> None:
    body = delivery(call(1), call(2), call(3))
    stored_before = world.store.insert

    def fail_on_the_second(item: Any, *, deadline: float) -> Any:
        if item.key["callId"] == "2":
            world.store.down = True
        try:
            return stored_before(item, deadline=deadline)
        finally:
            world.store.down = False

    world.store.insert = fail_on_the_second  # type: ignore[method-assign]
    first = world.receive(body)
    world.store.insert = stored_before  # type: ignore[method-assign]
    second = world.receive(body, request_id="r2")

    assert first.status is DeliveryStatus.UNAVAILABLE
    assert world.archive.kept[0][0:2] == ("unstored/", body)
    assert dict(second.results) == {EventResult.DUPLICATE: 1, EventResult.STORED: 2}
    assert world.stored_ids() == {"1", "2", "3"}
    assert sorted(world.store.deliveries.values()) == [1, 1, 2]


def test_refused_events_archive_the_delivery_and_the_rest_is_stored(world: World) -> None:
    body = delivery(call(1), {"eventType": "Finished", "resourceType": "OutboundCall"}, 7)

    outcome = world.receive(body)

    assert outcome.status is DeliveryStatus.ACCEPTED
    assert dict(outcome.results) == {EventResult.STORED: 1, EventResult.REFUSED: 2}
    assert world.archive.kept == [("rejected/", body, "unknown_report")]
    assert world.archive.details == [
        "event 1: the OutboundCall event has no resource object; "
        "event 2: the event is not a JSON object"
    ]


def test_a_delivery_of_refused_events_only_is_refused(world: World) -> None:
    body = delivery({"resourceType": "OutboundCall", "eventType": "Finished", "resource": {}})

    outcome = world.receive(body)

    assert (outcome.status, outcome.reason) == (
        DeliveryStatus.REJECTED,
        RejectReason.UNKNOWN_REPORT,
    )
    assert world.archive.kept == [("rejected/", body, "unknown_report")]


def test_a_conflicting_event_archives_the_delivery_and_keeps_the_stored_item(
    world: World,
) -> None:
    world.receive(delivery(call(1)))
    other = delivery(call(1, finalCallResult="LA"), call(2))

    outcome = world.receive(other, request_id="r2")

    assert dict(outcome.results) == {EventResult.CONFLICT: 1, EventResult.STORED: 1}
    assert world.archive.kept == [("rejected/", other, "conflicting_duplicate")]
    stored = world.store.items[("calls", "1", "call")]
    assert stored.attributes["disposition"] == "AM"


def test_other_resource_types_are_kept_once_by_their_key(world: World) -> None:
    body = (EVENTS / "v2" / "contact_list_validation_finished.json").read_bytes()

    first = world.receive(body)
    again = world.receive(body, request_id="r2")

    (key,) = world.events.events
    assert key == "events/ContactList/2017/06/06/3745004-1496758301032-0.json"
    assert json.loads(world.events.events[key])["resource"]["name"].startswith("API Contact")
    assert dict(first.results) == {EventResult.KEPT: 1}
    assert dict(again.results) == {EventResult.DUPLICATE: 1}
    assert world.store.items == {}


def test_event_keys_are_safe_whatever_the_delivery_says() -> None:
    other = OtherEvent("../../etc passwd", "x", "1/2", None)

    key = event_key(other, 3, NOW)

    assert key == "events/_.._etc_passwd/2026/11/28/1_2-no-timestamp-3.json"
    assert ".." not in key.split("/")


LOW_BALANCE = {"timestamp": 1700000000000, "resourceType": "LowBalance", "eventType": "Finished"}


def test_low_balance_is_kept_and_told_on_the_alarm_topic(world: World) -> None:
    outcome = world.receive(delivery({**LOW_BALANCE, "resource": {"balance": 1.5}}))

    assert dict(outcome.results) == {EventResult.KEPT: 1}
    assert outcome.low_balance == 1
    ((subject, message),) = world.notifier.messages
    assert subject == "CallFire: low balance (Finished)"
    assert "events/LowBalance/2023/11/14/9-1700000000000-0.json" in message


def test_low_balance_not_told_answers_503_so_it_is_sent_again(world: World) -> None:
    body = delivery({**LOW_BALANCE, "resource": {}})
    world.notifier.down = True

    outcome = world.receive(body)
    world.notifier.down = False
    again = world.receive(body, request_id="r2")

    assert outcome.status is DeliveryStatus.UNAVAILABLE
    assert world.archive.kept[0][0] == "unstored/"
    assert again.status is DeliveryStatus.ACCEPTED
    assert len(world.notifier.messages) == 1


def test_storage_down_archives_the_delivery_as_unstored(world: World) -> None:
    world.store.down = True

    outcome = world.receive(CALL)

    assert outcome.status is DeliveryStatus.UNAVAILABLE
    assert world.archive.kept == [("unstored/", CALL, "ProvisionedThroughputExceededException")]


def test_out_of_time_stops_and_archives_the_delivery_as_unstored(world: World) -> None:
    body = delivery(call(1), call(2), call(3))
    stored_before = world.store.insert

    def slow_insert(item: Any, *, deadline: float) -> Any:
        world.clock.advance(10)
        return stored_before(item, deadline=deadline)

    world.store.insert = slow_insert  # type: ignore[method-assign]

    outcome = world.receive(body, deadline=world.clock.now + 15)

    assert outcome.status is DeliveryStatus.UNAVAILABLE
    assert world.stored_ids() == {"1", "2"}
    assert world.archive.kept == [("unstored/", body, OUT_OF_TIME)]


def test_recordings_of_stored_calls_are_queued(world: World) -> None:
    body = (EVENTS / "v2" / "outbound_call_finished_with_recordings.json").read_bytes()

    outcome = world.receive(body)

    assert outcome.recordings_queued == 2
    assert [(job.index, job.url) for job in world.queue.jobs] == [
        (0, "https://api.callfire.com/calls/recordings/2033"),
        (1, "https://api.callfire.com/v2/calls/recordings/2034.mp3"),
    ]


def test_an_unexpected_failure_keeps_the_delivery_for_replay(world: World) -> None:
    def broken(item: Any) -> Any:
        raise RuntimeError("a bug")

    world.store.insert = broken  # type: ignore[method-assign]

    outcome = world.receive(CALL)

    assert outcome.status is DeliveryStatus.FAILED
    assert world.archive.kept == [("unstored/", CALL, "internal_error")]


def test_every_call_ends_by_the_work_deadline_and_the_archive_by_the_request_deadline() -> None:
    """The work (the secret, each item, each event kept, each job queued, a low balance told) ends
    `archive_seconds` before the request's deadline, which is left to the archive alone."""
    world = World(archive_seconds=2.5)
    body = delivery(
        call(1, records=[{"recordings": [{"id": 7, "mp3Url": "https://callfire.com/r.mp3"}]}]),
        call(1, modified=1),
        LOW_BALANCE,
        {"resourceType": "CallBroadcast", "eventType": "Started"},
    )

    outcome = world.receive(body, deadline=world.clock.now + 20)

    assert outcome.status is DeliveryStatus.ACCEPTED
    work = world.clock.now + 17.5
    assert set(world.secret.deadlines) == {work}
    assert set(world.store.deadlines) == {work}
    assert set(world.events.deadlines) == {work}
    assert set(world.notifier.deadlines) == {work}
    assert set(world.queue.deadlines) == {work}
    assert world.archive.deadlines == [world.clock.now + 20]


def test_no_event_is_started_once_the_work_deadline_has_passed() -> None:
    """With less time left than the archive needs, the delivery goes to unstored/ at once."""
    world = World(archive_seconds=2.5)

    outcome = world.receive(CALL, deadline=world.clock.now + 2)

    assert outcome.status is DeliveryStatus.UNAVAILABLE
    assert world.store.items == {}
    assert world.archive.kept == [("unstored/", CALL, OUT_OF_TIME)]
