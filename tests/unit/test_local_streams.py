"""The local stream event source plays Lambda's rules for a DynamoDB stream mapping: filters,
partial batch responses, bisection on a function error, bounded retries, maximum record age, and
the on-failure record in Lambda's own format (checked against Powertools' model of it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamLambdaOnFailureDestinationModel,
)

from local.resources import StreamSource
from local.streams import StreamConsumer, matches
from tests.events_out import stream_record

SOURCE = StreamSource(
    function_id="EventsPublisherFunction",
    stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/Calls/stream/2026-11-29T00:00:00.000",
    batch_size=100,
    starting_position="TRIM_HORIZON",
    bisect_on_error=True,
    retry_attempts=2,
    max_record_age_seconds=3600,
    reports_item_failures=True,
    filters=({"eventName": ["INSERT", "MODIFY"]},),
    on_failure_queue_url="https://sqs.local/dead-letters",
)
NOW = 1_796_000_000.0


@dataclass
class SentMessages:
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        assert QueueUrl == SOURCE.on_failure_queue_url
        self.bodies.append(json.loads(MessageBody))


def records(count: int, created: float = NOW) -> list[dict[str, Any]]:
    return [
        stream_record(
            "INSERT",
            new={"callId": str(n), "eventType": "call"},
            sequence_number=str(100 + n),
            created=created,
        )
        for n in range(count)
    ]


def consumer(
    answer: Any, source: StreamSource = SOURCE
) -> tuple[StreamConsumer, SentMessages, list[list[str]]]:
    """A consumer whose function answers `answer(sequence numbers)`: a response, or raises."""
    seen: list[list[str]] = []
    sent = SentMessages()

    def invoke(function_id: str, event: dict[str, Any]) -> Any:
        assert function_id == SOURCE.function_id
        numbers = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        seen.append(numbers)
        return answer(numbers)

    return StreamConsumer(source, None, sent, invoke, "us-east-1", clock=lambda: NOW), sent, seen


def test_a_successful_batch_is_delivered_once() -> None:
    stream, sent, seen = consumer(lambda _: {"batchItemFailures": []})

    stream.deliver("shard-1", records(3))

    assert seen == [["100", "101", "102"]]
    assert sent.bodies == []


def test_a_partial_failure_retries_from_the_record_it_names() -> None:
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "101"}]}, {}])
    stream, sent, seen = consumer(lambda _: next(answers))

    stream.deliver("shard-1", records(3))

    assert seen == [["100", "101", "102"], ["101", "102"]]
    assert sent.bodies == []


def test_a_function_error_bisects_until_the_poison_record_is_dead_lettered_alone() -> None:
    def answer(numbers: list[str]) -> dict[str, Any]:
        if "102" in numbers:
            raise RuntimeError("poison")
        return {}

    stream, sent, seen = consumer(answer)

    stream.deliver("shard-1", records(4))

    assert seen[:3] == [["100", "101", "102", "103"], ["100", "101"], ["102", "103"]]
    assert seen.count(["102"]) == SOURCE.retry_attempts + 1
    assert ["103"] in seen
    (failure,) = sent.bodies
    parsed = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(failure)
    assert parsed.ddb_stream_batch_info.start_sequence_number == "102"
    assert parsed.ddb_stream_batch_info.end_sequence_number == "102"
    assert parsed.ddb_stream_batch_info.batch_size == 1
    assert parsed.ddb_stream_batch_info.stream_arn == SOURCE.stream_arn
    assert parsed.request_context.condition == "RetryAttemptsExhausted"
    assert parsed.response_context.function_error == "Unhandled"


def test_an_identifier_that_names_no_record_fails_the_whole_batch() -> None:
    stream, sent, seen = consumer(lambda _: {"batchItemFailures": [{"itemIdentifier": ""}]})

    stream.deliver("shard-1", records(2))

    assert seen == [["100", "101"]] * (SOURCE.retry_attempts + 1)
    (failure,) = sent.bodies
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 2
    assert "functionError" not in failure["responseContext"]


def test_records_past_the_maximum_age_go_to_the_destination_unread() -> None:
    stream, sent, seen = consumer(lambda _: {})
    old = records(2, created=NOW - SOURCE.max_record_age_seconds - 1)
    fresh = records(3)[2:]

    stream.deliver("shard-1", old + fresh)

    assert seen == [["102"]]
    (failure,) = sent.bodies
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 2


def test_filters_keep_what_they_name_and_refuse_rules_they_cannot_play() -> None:
    (insert,) = records(1)
    removal = {**insert, "eventName": "REMOVE"}
    (pattern,) = SOURCE.filters

    assert matches(pattern, insert)
    assert not matches(pattern, removal)
    assert matches({"dynamodb": {"SequenceNumber": ["100"]}}, insert)
    with pytest.raises(NotImplementedError):
        matches({"eventName": [{"prefix": "IN"}]}, insert)
