"""The EventBridge adapter on moto: requests of at most 10 entries and under 256 KB, and each
entry's outcome read from PutEvents' answer (a partial failure is reported per entry, never taken
for success)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.adapters.aws import aws_service
from functions.adapters.event_bus import EventBridgePublisher
from functions.events.mapping import MAX_EVENT_BYTES, BusEvent, entry_size
from functions.events.ports import NotPut
from functions.names import Output
from local.faults import counting, entries_failing, failing
from local.invoke import reset_function_state
from local.resources import LocalResources

SOURCE = "callfire.receiver"


def soon() -> float:
    return time.monotonic() + 30


@pytest.fixture
def publisher(resources: LocalResources) -> EventBridgePublisher:
    reset_function_state(keep_clients=True)
    return EventBridgePublisher(
        aws_service("events"), resources.outputs()[Output.EVENT_BUS_NAME], SOURCE
    )


def event(number: int, padding: int = 0) -> BusEvent:
    detail = json.dumps({"n": number, "padding": "x" * padding})
    return BusEvent(
        "Call Finished", detail, ("arn:aws:dynamodb:us-east-1:1:table/T",), datetime.now(UTC)
    )


def test_twenty_three_events_go_in_three_requests(publisher: EventBridgePublisher) -> None:
    with counting("events", "PutEvents") as calls:
        answers = publisher.publish([event(n) for n in range(23)], deadline=soon())

    assert answers == [None] * 23
    assert len(calls) == 3


def test_large_events_are_spread_so_that_each_request_stays_under_256_kb(
    publisher: EventBridgePublisher,
) -> None:
    large = [event(n, padding=100_000) for n in range(5)]
    assert all(entry_size(item, SOURCE) < MAX_EVENT_BYTES for item in large)

    with counting("events", "PutEvents") as calls:
        answers = publisher.publish(large, deadline=soon())

    assert answers == [None] * 5
    assert len(calls) == 3  # 2 + 2 + 1: three would pass 256 KB


def test_an_entry_the_bus_refuses_is_reported_and_not_retryable(
    publisher: EventBridgePublisher,
) -> None:
    broken = BusEvent("Call Finished", "{not json", (), None)

    answers = publisher.publish([event(1), broken, event(2)], deadline=soon())

    assert answers[0] is None
    assert answers[2] is None
    assert answers[1] == NotPut("MalformedDetail", retryable=False)


def test_throttled_entries_are_reported_as_retryable(publisher: EventBridgePublisher) -> None:
    def second(entry: dict[str, Any]) -> bool:
        return json.loads(entry["Detail"])["n"] == 2

    with entries_failing("ThrottlingException", second) as failed:
        answers = publisher.publish([event(1), event(2), event(3)], deadline=soon())

    assert len(failed) == 1
    assert answers == [None, NotPut("ThrottlingException", retryable=True), None]


def test_a_bus_that_answers_nothing_fails_every_entry_retryably(
    publisher: EventBridgePublisher,
) -> None:
    with failing("events", "PutEvents", "ServiceUnavailable"):
        answers = publisher.publish([event(1), event(2)], deadline=soon())

    assert answers == [NotPut("ServiceUnavailable", retryable=True)] * 2


def test_a_bus_that_does_not_exist_fails_every_entry_for_good() -> None:
    reset_function_state(keep_clients=True)
    missing = EventBridgePublisher(aws_service("events"), "no-such-bus", SOURCE)

    answers = missing.publish([event(1)], deadline=soon())

    assert answers == [NotPut("ResourceNotFoundException", retryable=False)]
