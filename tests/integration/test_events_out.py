"""Events out from the template: the real postback, recordings and events code on moto, the
template's tables with their streams, its bus, and its stream event source mappings played by the
local stream consumer (local/streams.py) exactly as configured (filters, bisect, retries,
on-failure destination). A local-only queue watches the bus; every event taken from it is checked
against its JSON Schema."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from functions.adapters.dynamodb import serialize
from functions.adapters.recording_entries import DynamoRecordingEntries
from functions.names import DetailType, Env, Handler, LocalEndpoint, Output
from functions.postback.body import read_postback
from functions.recordings.jobs import RecordingJob
from functions.recordings.ports import StoredRecording
from local.bus import take_events
from local.faults import entries_failing, failing
from local.invoke import lambda_context, load_handler, reset_function_state
from local.resources import LocalResources
from local.streams import StreamConsumer
from tests.events_out import validate_event
from tests.helpers import REGION, event_body, later
from tests.integration.conftest import PostbackClient
from tools import replay
from tools.target import STREAMS_CONFIG, Target

_deserializer = TypeDeserializer()
WATCH_QUEUE = "test-events-watch"


@pytest.fixture(scope="module")
def watch_queue(resources: LocalResources, aws: Any) -> str:
    from local.bus import watch_bus

    events_function = resources.function_for_handler(Handler.EVENTS)
    return watch_bus(
        aws,
        bus_name=resources.outputs()[Output.EVENT_BUS_NAME],
        source=events_function.environment[Env.EVENT_SOURCE],
        queue_name=WATCH_QUEUE,
    )


@dataclasses.dataclass
class Pipeline:
    """The template's stream event sources, polled on demand, and the bus's watch queue."""

    consumers: list[StreamConsumer]
    aws: Any
    watch_queue: str
    dead_letter_queue: str
    target: Target

    def published(self) -> list[dict[str, Any]]:
        """Carries every new stream record to the bus; answers the events it published."""
        for consumer in self.consumers:
            consumer.drain()
        return [validate_event(event) for event in take_events(self.aws("sqs"), self.watch_queue)]

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = (
            self.aws("sqs")
            .receive_message(
                QueueUrl=self.dead_letter_queue, MaxNumberOfMessages=10, VisibilityTimeout=0
            )
            .get("Messages", [])
        )
        return [json.loads(message["Body"]) for message in messages]

    @property
    def invocations(self) -> int:
        return sum(consumer.invocations for consumer in self.consumers)


@pytest.fixture
def pipeline(
    resources: LocalResources,
    aws: Any,
    watch_queue: str,
    postback: PostbackClient,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Pipeline]:
    function = resources.function_for_handler(Handler.EVENTS)
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(Env.EVENTS_RETRY_SECONDS, "0")
    reset_function_state(keep_clients=True)
    streams = boto3.session.Session(region_name=REGION).client(
        "dynamodbstreams", config=STREAMS_CONFIG
    )

    def invoke(_: str, event: dict[str, Any]) -> Any:
        return load_handler(function.handler)(event, lambda_context(function, REGION))

    consumers = []
    for source in resources.stream_sources():
        # The session's tables already hold other tests' items: start after them.
        consumer = StreamConsumer(
            dataclasses.replace(source, starting_position="LATEST"),
            streams,
            aws("sqs"),
            invoke,
            REGION,
        )
        consumer.open()
        consumers.append(consumer)
    outputs = resources.outputs()
    dead_letter_queue = outputs[Output.EVENTS_DEAD_LETTER_QUEUE]
    take_events(aws("sqs"), dead_letter_queue)  # empties it (its messages are JSON too)
    take_events(aws("sqs"), watch_queue)
    yield Pipeline(
        consumers,
        aws,
        watch_queue,
        dead_letter_queue,
        Target(
            session=boto3.session.Session(region_name=REGION),
            endpoint_url=None,
            calls_table=outputs[Output.CALLS_TABLE],
            campaigns_table=outputs[Output.CAMPAIGNS_TABLE],
            bucket=outputs[Output.BUCKET],
            recordings_queue=outputs[Output.RECORDINGS_QUEUE],
            description="moto",
            endpoints={
                LocalEndpoint.EVENTS_DEAD_LETTER_QUEUE: dead_letter_queue,
                LocalEndpoint.EVENT_BUS: outputs[Output.EVENT_BUS_NAME],
                LocalEndpoint.EVENT_SOURCE: function.environment[Env.EVENT_SOURCE],
            },
        ),
    )
    reset_function_state(keep_clients=True)


def unique_id() -> str:
    return str(datetime.now(UTC).timestamp()).replace(".", "")[-12:]


def with_call_id(sample: str, call_id: str) -> bytes:
    return event_body(sample).replace(b"111111", call_id.encode())


def stored(aws: Any, table: str, key: dict[str, str]) -> dict[str, Any]:
    item = aws("dynamodb").get_item(TableName=table, Key=serialize(key))["Item"]
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def quiet(label: str, total: int) -> replay.Progress:
    return replay.Progress(label, total, stream=io.StringIO())


def detail_types(events: list[dict[str, Any]]) -> list[str]:
    return sorted(event["detail-type"] for event in events)


def test_a_stored_call_is_exactly_one_call_finished_carrying_the_item(
    pipeline: Pipeline, postback: PostbackClient
) -> None:
    call_id = unique_id()
    assert postback.post(with_call_id("call_finished.xml", call_id)).body["status"] == "stored"

    (event,) = pipeline.published()

    assert event["detail-type"] == DetailType.CALL_FINISHED
    assert event["source"] == "callfire.receiver"
    item = stored(
        pipeline.aws, pipeline.target.calls_table, {"callId": call_id, "eventType": "call"}
    )
    detail = event["detail"]
    assert detail["callId"] == call_id
    for name in ("raw", "extra", "deliveries"):
        assert name not in detail
    shared = {name: value for name, value in item.items() if name in detail}
    assert json.loads(json.dumps(shared, default=float)) == {name: detail[name] for name in shared}
    assert set(item) - set(detail) == {"raw", "deliveries"}
    assert event["resources"] == [
        f"arn:aws:dynamodb:{REGION}:123456789012:table/{pipeline.target.calls_table}"
    ]


def test_a_redelivery_and_a_conflict_publish_nothing(
    pipeline: Pipeline, postback: PostbackClient
) -> None:
    call_id = unique_id()
    body = with_call_id("call_finished.xml", call_id)
    postback.post(body)
    assert detail_types(pipeline.published()) == [DetailType.CALL_FINISHED]
    invoked = pipeline.invocations

    assert postback.post(body).body["status"] == "duplicate"
    assert postback.post(body.replace(b"TRANSFER", b"LA")).body["status"] == "conflict"

    assert pipeline.published() == []
    assert pipeline.invocations == invoked + 1  # the counted delivery was read, and skipped


def test_texts_and_campaigns_have_their_own_detail_types(
    pipeline: Pipeline, postback: PostbackClient
) -> None:
    call_id = unique_id()
    postback.post(with_call_id("text_sent.xml", call_id))
    postback.post(with_call_id("text_reply.xml", call_id))
    postback.post(event_body("campaign_finished.xml").replace(b"22222", call_id.encode()))

    events = pipeline.published()

    assert detail_types(events) == sorted(
        [DetailType.TEXT_SENT, DetailType.TEXT_RECEIVED, DetailType.CAMPAIGN_FINISHED]
    )
    (campaign,) = [event for event in events if event["detail"]["table"] == "campaigns"]
    assert campaign["detail"]["campaignId"] == call_id
    assert campaign["detail"]["dialed"] == 100


def test_a_recording_copied_is_one_event_and_a_failed_one_another(
    pipeline: Pipeline, postback: PostbackClient
) -> None:
    calls = pipeline.target.calls_table
    entries = DynamoRecordingEntries(pipeline.target.service("dynamodb"), calls)
    first, second = unique_id() + "1", unique_id() + "2"
    for call_id in (first, second):
        postback.post(with_call_id("call_finished.xml", call_id))
    pipeline.published()
    url = stored(pipeline.aws, calls, {"callId": first, "eventType": "call"})["recordings"][0][
        "url"
    ]
    key = f"recordings/22222/{first}/0.wav"

    assert entries.mark_copied(
        RecordingJob(first, "call", "22222", 0, url),
        StoredRecording(key, "audio/x-wav", 4096),
        deadline=later(),
    )
    assert entries.mark_failed(
        RecordingJob(second, "call", "22222", 0, url), "HTTP 404", deadline=later()
    )
    (copied, failed) = sorted(pipeline.published(), key=lambda event: event["detail-type"])

    assert copied["detail-type"] == DetailType.RECORDING_COPIED
    assert {name: value for name, value in copied["detail"].items() if name != "eventId"} == {
        "callId": first,
        "eventType": "call",
        "campaignId": "22222",
        "index": 0,
        "bucket": pipeline.target.bucket,
        "s3Key": key,
        "contentType": "audio/x-wav",
        "bytes": 4096,
        "url": url,
        "table": "calls",
    }
    assert failed["detail-type"] == DetailType.RECORDING_FAILED
    assert failed["detail"]["reason"] == "HTTP 404"
    assert not entries.mark_failed(
        RecordingJob(first, "call", "22222", 0, url), "late", deadline=later()
    )
    assert pipeline.published() == []


def test_replay_stores_and_publishes_once_and_remap_publishes_a_new_version(
    pipeline: Pipeline,
) -> None:
    """A report stored by the replay tool is published like any other; remap makes a new
    version of an item whose mapping changed, published again with a new eventId; running remap
    again publishes nothing."""
    call_id = unique_id()
    received = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    _, item = read_postback(with_call_id("call_finished.xml", call_id), None, received, 262144)
    calls = pipeline.target.calls_table
    store = replay._store(pipeline.target)
    assert replay.store_once(store, item, deadline=later()) is replay.Stored.NEW
    (original,) = pipeline.published()
    pipeline.aws("dynamodb").update_item(
        TableName=calls,
        Key=serialize(item.key),
        UpdateExpression="REMOVE disposition",
    )
    assert pipeline.published() == []

    window = {"since": "2031-01-02", "until": "2031-01-02\uffff", "progress": quiet}
    assert replay.remap(pipeline.target, **window)["updated"] == 1
    (remapped,) = pipeline.published()
    assert replay.remap(pipeline.target, **window)["updated"] == 0

    assert remapped["detail-type"] == DetailType.CALL_FINISHED
    assert remapped["detail"]["version"] == 2
    assert remapped["detail"]["disposition"] == "TRANSFER"
    assert remapped["detail"]["eventId"] != original["detail"]["eventId"]
    assert pipeline.published() == []


def test_a_removed_item_never_reaches_the_function(pipeline: Pipeline, aws: Any) -> None:
    call_id = unique_id()
    key = {"callId": call_id, "eventType": "call"}
    calls = pipeline.target.calls_table
    aws("dynamodb").put_item(
        TableName=calls,
        Item=serialize({**key, "receivedAt": "2026-11-29T00:00:00.000Z"}),
    )
    pipeline.published()
    invoked = pipeline.invocations

    aws("dynamodb").delete_item(TableName=calls, Key=serialize(key))

    assert pipeline.published() == []
    assert pipeline.invocations == invoked


def test_an_unavailable_bus_is_retried_then_dead_lettered_then_replayed_never_lost(
    pipeline: Pipeline, postback: PostbackClient
) -> None:
    call_id = unique_id()
    invoked = pipeline.invocations
    with failing("events", "PutEvents", "ServiceUnavailable") as attempts:
        postback.post(with_call_id("call_finished.xml", call_id))
        assert pipeline.published() == []

    retries = pipeline.consumers[0].source.retry_attempts
    assert pipeline.invocations - invoked == retries + 1
    assert len(attempts) >= retries + 1  # each invocation tries at least once
    (dead_letter,) = pipeline.dead_letters()
    batch = dead_letter["DDBStreamBatchInfo"]
    assert dead_letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert batch["batchSize"] == 1
    assert batch["startSequenceNumber"] == batch["endSequenceNumber"]

    tally = replay.replay_events(pipeline.target, retry_seconds=0, progress=quiet)

    assert tally == {"published": 1}
    (event,) = pipeline.published()
    assert event["detail"]["callId"] == call_id
    assert pipeline.dead_letters() == []


def test_entries_the_bus_throttles_are_put_again_and_published_once(
    pipeline: Pipeline, postback: PostbackClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(Env.EVENTS_RETRY_SECONDS, "5")
    reset_function_state(keep_clients=True)
    ids = [unique_id() + str(n) for n in range(3)]
    for call_id in ids:
        postback.post(with_call_id("call_finished.xml", call_id))

    def middle(entry: dict[str, Any]) -> bool:
        return json.loads(entry["Detail"])["callId"] == ids[1]

    with entries_failing("ThrottlingException", middle, calls=2) as throttled:
        events = pipeline.published()

    assert len(throttled) == 2
    assert sorted(event["detail"]["callId"] for event in events) == sorted(ids)
    assert pipeline.dead_letters() == []


def test_a_poison_record_is_isolated_and_dead_lettered_alone(
    pipeline: Pipeline, postback: PostbackClient, aws: Any
) -> None:
    good = [unique_id() + "a", unique_id() + "c"]
    poison = {"callId": unique_id() + "b", "eventType": "fax"}
    postback.post(with_call_id("call_finished.xml", good[0]))
    aws("dynamodb").put_item(TableName=pipeline.target.calls_table, Item=serialize(poison))
    postback.post(with_call_id("call_finished.xml", good[1]))

    try:
        events = pipeline.published()
    finally:  # the session's other tests (remap) read every item of the table
        aws("dynamodb").delete_item(TableName=pipeline.target.calls_table, Key=serialize(poison))

    assert sorted(event["detail"]["callId"] for event in events) == sorted(good)
    (dead_letter,) = pipeline.dead_letters()
    assert dead_letter["DDBStreamBatchInfo"]["batchSize"] == 1
    assert dead_letter["responseContext"]["functionError"] == "Unhandled"
    assert replay.replay_events(pipeline.target, retry_seconds=0, progress=quiet) == {
        "cannot be published (UnreadableRecord; left)": 1
    }


def test_the_template_s_mappings_are_what_the_local_consumer_plays(
    resources: LocalResources,
) -> None:
    sources = resources.stream_sources()

    assert len(sources) == 2
    for source in sources:
        assert source.bisect_on_error
        assert source.reports_item_failures
        assert source.retry_attempts > 0
        assert source.on_failure_queue_url == resources.outputs()[Output.EVENTS_DEAD_LETTER_QUEUE]
        assert source.filters == ({"eventName": ["INSERT", "MODIFY"]},)
