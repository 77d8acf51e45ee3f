"""The replay tool on moto: archived bodies come back into the tables once, stored items are
re-mapped from `raw` after a parser change, and recordings left PENDING are queued again."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.names import Output
from functions.reports import RejectReason, ReportRejected
from local.faults import failing
from tests.helpers import REGION, event_body
from tests.integration.conftest import PostbackClient
from tools import replay
from tools.target import Target

TODAY = datetime.now(UTC).date()


def quiet(label: str, total: int) -> replay.Progress:
    return replay.Progress(label, total, stream=io.StringIO())


@pytest.fixture
def target(postback: PostbackClient) -> Target:
    return Target(
        session=boto3.session.Session(region_name=REGION),
        endpoint_url=None,
        calls_table=postback.outputs[Output.CALLS_TABLE],
        campaigns_table=postback.outputs[Output.CAMPAIGNS_TABLE],
        bucket=postback.outputs[Output.BUCKET],
        recordings_queue=postback.function.environment["RECORDINGS_QUEUE_URL"],
        description="moto",
    )


def fresh_call(sample: str = "call_finished.xml") -> tuple[bytes, str]:
    call_id = str(datetime.now(UTC).timestamp()).replace(".", "")[-12:]
    return event_body(sample).replace(b"111111", call_id.encode()), call_id


def get_call(
    aws: Any, target: Target, call_id: str, event_type: str = "call"
) -> dict[str, Any] | None:
    return (
        aws("dynamodb")
        .get_item(
            TableName=target.calls_table,
            Key={"callId": {"S": call_id}, "eventType": {"S": event_type}},
        )
        .get("Item")
    )


def drain(aws: Any, target: Target) -> list[dict[str, Any]]:
    jobs = []
    while (
        messages := aws("sqs")
        .receive_message(QueueUrl=target.recordings_queue, MaxNumberOfMessages=10)
        .get("Messages")
    ):
        for message in messages:
            jobs.append(json.loads(message["Body"]))
            aws("sqs").delete_message(
                QueueUrl=target.recordings_queue, ReceiptHandle=message["ReceiptHandle"]
            )
    return jobs


def test_unstored_bodies_are_stored_once_by_replay(
    postback: PostbackClient, target: Target, aws: Any
) -> None:
    body, call_id = fresh_call()
    postback.post(event_body("call_minimal.xml"))
    with failing("dynamodb", "PutItem"):
        assert postback.post(body).status == 503
    drain(aws, target)

    first = replay.replay_archived(target, "unstored/", TODAY, TODAY, progress=quiet)
    second = replay.replay_archived(target, "unstored/", TODAY, TODAY, progress=quiet)

    assert first["stored"] >= 1
    assert set(second) == {"replayed before"}
    item = get_call(aws, target, call_id)
    assert item is not None
    assert item["raw"] == {"S": body.decode()}
    assert item["deliveries"] == {"N": "1"}
    assert [job["callId"] for job in drain(aws, target)].count(call_id) == 1


def test_a_replayed_body_already_stored_counts_one_delivery_like_the_function(
    postback: PostbackClient, target: Target, aws: Any
) -> None:
    """CallFire got a 503 and sent the report again, which was stored: the archived body is a
    second delivery of it. Replay counts it once through the same store-once rule as the
    postback function, however often it runs."""
    body, call_id = fresh_call()
    with failing("dynamodb", "PutItem"):
        assert postback.post(body).status == 503
    assert postback.post(body).status == 200
    drain(aws, target)

    replay.replay_archived(target, "unstored/", TODAY, TODAY, progress=quiet)
    replay.replay_archived(target, "unstored/", TODAY, TODAY, progress=quiet)

    item = get_call(aws, target, call_id)
    assert item is not None
    assert item["deliveries"] == {"N": "2"}
    assert drain(aws, target) == []


def test_dry_run_changes_nothing(postback: PostbackClient, target: Target, aws: Any) -> None:
    body, call_id = fresh_call("text_reply.xml")
    postback.post(event_body("call_minimal.xml"))
    with failing("dynamodb", "PutItem"):
        postback.post(body)

    tally = replay.replay_archived(target, "unstored/", TODAY, TODAY, dry_run=True, progress=quiet)

    assert tally["would store"] >= 1
    assert get_call(aws, target, call_id, "text-reply") is None


def test_rejected_bodies_are_stored_after_a_parser_fix(
    postback: PostbackClient, target: Target, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    body, call_id = fresh_call("text_sent.xml")
    original = replay.read_postback.__globals__["read_report"]

    def old_parser(text: Any) -> Any:
        raise ReportRejected(RejectReason.UNKNOWN_REPORT, "this parser did not know texts yet")

    monkeypatch.setattr("functions.postback.body.read_report", old_parser)
    assert postback.post(body).status == 422
    monkeypatch.setattr("functions.postback.body.read_report", original)

    tally = replay.replay_archived(target, "rejected/", TODAY, TODAY, progress=quiet)

    assert tally["stored"] >= 1
    item = get_call(aws, target, call_id, "text-sent")
    assert item is not None
    assert item["smsSent"] == {"S": "sent message"}


def test_remap_rewrites_what_an_older_parser_got_wrong_and_keeps_history(
    postback: PostbackClient, target: Target, aws: Any
) -> None:
    body, call_id = fresh_call()
    postback.post(body)
    postback.post(body)
    key = {"callId": {"S": call_id}, "eventType": {"S": "call"}}
    aws("dynamodb").update_item(
        TableName=target.calls_table,
        Key=key,
        UpdateExpression="REMOVE disposition SET extra = :old, recordings[0].#s = :copied",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":old": {"M": {"disposition": {"S": "TRANSFER"}}},
            ":copied": {"S": "COPIED"},
        },
    )

    first = replay.remap(target, progress=quiet)
    second = replay.remap(target, progress=quiet)

    assert first["updated"] >= 1
    assert second["updated"] == 0
    item = aws("dynamodb").get_item(TableName=target.calls_table, Key=key)["Item"]
    assert item["disposition"] == {"S": "TRANSFER"}
    assert "extra" not in item
    assert item["deliveries"] == {"N": "2"}
    assert item["recordings"]["L"][0]["M"]["status"] == {"S": "COPIED"}
    assert item["version"] == {"N": "2"}
    assert item["updatedAt"]["S"].endswith("Z")


def test_pending_recordings_are_queued_again(
    postback: PostbackClient, target: Target, aws: Any
) -> None:
    body, call_id = fresh_call()
    postback.post(event_body("call_minimal.xml"))
    with failing("sqs", "SendMessageBatch"):
        assert postback.post(body).status == 200
    drain(aws, target)

    tally = replay.requeue_recordings(target, progress=quiet)

    assert tally["queued"] >= 1
    jobs = [job for job in drain(aws, target) if job["callId"] == call_id]
    assert jobs == [
        {
            "callId": call_id,
            "eventType": "call",
            "campaignId": "22222",
            "index": 0,
            "url": "https://www.callfire.com/cloud/1/files/recording/",
        }
    ]
