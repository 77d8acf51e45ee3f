"""The events function's rule over a batch: every event put, or the batch names where the stream
must start again; throttled entries retried with back-off while the budget lasts; a poison
record fails the batch so that Lambda isolates it. The bus is a fake that scripts its answers."""

from __future__ import annotations

from typing import Any

import pytest

from functions.events.mapping import BusEvent, EventRules
from functions.events.ports import NotPut
from functions.events.service import EventsService, PoisonRecord
from functions.reports.items import Table
from tests.events_out import stream_record
from tests.fakes import FakeEventBus, ManualClock
from tests.helpers import documented_call_item

RULES = EventRules(
    tables={"Calls": Table.CALLS, "Campaigns": Table.CAMPAIGNS}, bucket="b", source="s"
)
THROTTLED = NotPut("ThrottlingException", retryable=True)
REFUSED = NotPut("MalformedDetail", retryable=False)


def call_record(call_id: str, sequence_number: str, **changes: Any) -> dict[str, Any]:
    item = {
        **documented_call_item(call_id),
        "recordings": None,
        "receivedAt": "2026-11-29T10:00:00.000Z",
        **changes,
    }
    item = {name: value for name, value in item.items() if value is not None}
    return stream_record("INSERT", new=item, sequence_number=sequence_number)


def batch(count: int) -> list[dict[str, Any]]:
    return [call_record(f"call-{n}", str(100 + n)) for n in range(count)]


def published_calls(bus: FakeEventBus) -> list[str]:
    return [_call_id(event) for event in bus.put]


def _call_id(event: BusEvent) -> str:
    import json

    return str(json.loads(event.detail)["callId"])


def service(bus: FakeEventBus, clock: ManualClock) -> EventsService:
    return EventsService(bus, RULES, clock=clock, sleep=clock.sleep, jitter=lambda: 0.5)


def failing_for(call_ids: set[str], reason: NotPut) -> Any:
    return lambda event: reason if _call_id(event) in call_ids else None


def test_a_batch_whose_events_are_all_put_reports_no_failure() -> None:
    bus, clock = FakeEventBus(), ManualClock()

    outcome = service(bus, clock).handle(batch(3), retry_until=clock() + 20, deadline=clock() + 60)

    assert outcome.batch_response() == {"batchItemFailures": []}
    assert published_calls(bus) == ["call-0", "call-1", "call-2"]
    assert outcome.published == 3
    assert bus.calls == [3]


def test_throttled_entries_are_put_again_after_growing_pauses() -> None:
    throttled = failing_for({"call-1"}, THROTTLED)
    bus, clock = FakeEventBus(answers=[throttled, throttled, throttled]), ManualClock()

    outcome = service(bus, clock).handle(batch(3), retry_until=clock() + 20, deadline=clock() + 60)

    assert outcome.batch_response() == {"batchItemFailures": []}
    assert sorted(published_calls(bus)) == ["call-0", "call-1", "call-2"]
    assert bus.calls == [3, 1, 1, 1]
    assert clock.pauses == pytest.approx([0.075, 0.15, 0.3])
    assert outcome.retried == 3


def test_entries_still_failing_when_the_budget_is_spent_hand_back_their_record() -> None:
    always_throttled = [failing_for({"call-1"}, THROTTLED)] * 100
    bus, clock = FakeEventBus(answers=always_throttled), ManualClock()

    outcome = service(bus, clock).handle(batch(3), retry_until=clock() + 2, deadline=clock() + 60)

    assert outcome.batch_response() == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert outcome.not_published == 1
    assert outcome.codes == {"ThrottlingException": 1}
    assert sum(clock.pauses) <= 2
    assert "call-1" not in published_calls(bus)


def test_no_budget_means_one_attempt_and_the_stream_retries() -> None:
    bus, clock = FakeEventBus(answers=[failing_for({"call-0"}, THROTTLED)]), ManualClock()

    outcome = service(bus, clock).handle(batch(2), retry_until=clock(), deadline=clock() + 60)

    assert outcome.batch_response() == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert clock.pauses == []


def test_a_refused_event_after_the_first_record_hands_back_from_its_record() -> None:
    bus, clock = FakeEventBus(answers=[failing_for({"call-2"}, REFUSED)]), ManualClock()

    outcome = service(bus, clock).handle(batch(4), retry_until=clock() + 20, deadline=clock() + 60)

    assert outcome.batch_response() == {"batchItemFailures": [{"itemIdentifier": "102"}]}
    assert bus.calls == [4]
    assert clock.pauses == []


def test_a_refused_event_of_the_first_record_fails_the_batch_so_that_lambda_bisects() -> None:
    bus, clock = FakeEventBus(answers=[failing_for({"call-0"}, REFUSED)]), ManualClock()

    with pytest.raises(PoisonRecord, match="MalformedDetail"):
        service(bus, clock).handle(batch(3), retry_until=clock() + 20, deadline=clock() + 60)


def test_an_unreadable_record_is_poison_and_what_comes_before_it_is_published() -> None:
    records = batch(3)
    records[1] = call_record("call-1", "101", eventType="fax")
    bus, clock = FakeEventBus(), ManualClock()

    outcome = service(bus, clock).handle(records, retry_until=clock() + 20, deadline=clock() + 60)

    assert outcome.batch_response() == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert published_calls(bus) == ["call-0"]
    with pytest.raises(PoisonRecord, match="UnreadableRecord"):
        service(FakeEventBus(), clock).handle(
            records[1:], retry_until=clock() + 20, deadline=clock() + 60
        )


def test_a_whole_request_refused_is_handed_back_from_its_first_record() -> None:
    unavailable = NotPut("ServiceUnavailable", retryable=True)
    bus = FakeEventBus(answers=[lambda _: unavailable])
    clock = ManualClock()

    outcome = service(bus, clock).handle(batch(2), retry_until=clock(), deadline=clock() + 60)

    assert outcome.batch_response() == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert bus.put == []


def test_removals_and_counted_deliveries_publish_nothing() -> None:
    item = {**documented_call_item(), "receivedAt": "2026-11-29T10:00:00.000Z", "deliveries": 1}
    counted = {**item, "deliveries": 2}
    records = [
        stream_record("MODIFY", old=item, new=counted, sequence_number="1"),
        stream_record("REMOVE", old=counted, sequence_number="2"),
    ]
    bus, clock = FakeEventBus(), ManualClock()

    outcome = service(bus, clock).handle(records, retry_until=clock() + 20, deadline=clock() + 60)

    assert outcome.batch_response() == {"batchItemFailures": []}
    assert bus.calls == []


def test_the_first_record_with_any_refused_event_is_poison_even_if_another_was_throttled() -> None:
    item = {
        **documented_call_item("call-0"),
        "receivedAt": "2026-11-29T10:00:00.000Z",
    }
    copied = {
        "url": item["recordings"][0]["url"],  # type: ignore[index]
        "status": "COPIED",
        "s3Key": "k",
        "contentType": "audio/x-wav",
        "bytes": 1,
    }
    record = stream_record("INSERT", new={**item, "recordings": [copied]}, sequence_number="7")

    def answer(event: BusEvent) -> NotPut:
        return THROTTLED if event.detail_type == "Recording Copied" else REFUSED

    bus, clock = FakeEventBus(answers=[answer]), ManualClock()

    with pytest.raises(PoisonRecord):
        service(bus, clock).handle([record], retry_until=clock(), deadline=clock() + 60)
