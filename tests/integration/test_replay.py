"""The replay tool on moto: archived bodies come back into the tables once, stored items are
re-mapped from `raw` after a parser change, and recordings left PENDING are queued again."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.names import Output
from functions.reports import RejectReason, ReportRejected
from local.faults import failing
from tests.helpers import EVENTS, REGION, event_body
from tests.integration.conftest import PostbackClient, WebhookClient
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


# v2 webhook deliveries and items.


def v2_delivery(name: str, **resource: Any) -> tuple[bytes, str]:
    event = json.loads((EVENTS / "v2" / name).read_text())["events"][0]
    resource_id = int(str(datetime.now(UTC).timestamp()).replace(".", "")[-12:])
    event["resource"] = {**event["resource"], "id": resource_id, **resource}
    return json.dumps({"webhookId": 5, "events": [event]}).encode(), str(resource_id)


def test_unstored_webhook_deliveries_are_stored_once_by_replay(
    webhooks: WebhookClient, target: Target, aws: Any
) -> None:
    body, call_id = v2_delivery("outbound_call_finished_with_recordings.json")
    webhooks.post(v2_delivery("outbound_call_finished.json")[0])
    with failing("dynamodb", "PutItem"):
        assert webhooks.post(body).status == 503
    drain(aws, target)

    first = replay.replay_archived(target, "unstored/", TODAY, TODAY, progress=quiet)
    second = replay.replay_archived(target, "unstored/", TODAY, TODAY, progress=quiet)

    assert first["stored"] >= 1
    assert set(second) == {"replayed before"}
    item = get_call(aws, target, call_id)
    assert item is not None
    assert item["source"] == {"S": "v2-webhook"}
    assert item["raw"]["S"] in body.decode()
    assert sorted(job["index"] for job in drain(aws, target) if job["callId"] == call_id) == [0, 1]


def test_remap_reads_v2_items_again_and_keeps_their_history(
    webhooks: WebhookClient, postback: PostbackClient, target: Target, aws: Any
) -> None:
    body, call_id = v2_delivery("outbound_call_finished.json")
    event = json.loads(body)["events"][0]
    event["resource"]["modified"] += 1000
    webhooks.post(body)
    webhooks.post(json.dumps({"events": [event]}).encode())
    campaign, campaign_id = v2_delivery("call_broadcast_finished.json")
    webhooks.post(campaign)
    postback.post(event_body("campaign_finished.xml").replace(b"22222", campaign_id.encode()))
    call_key = {"callId": {"S": call_id}, "eventType": {"S": "call"}}
    campaign_key = {"campaignId": {"S": campaign_id}}
    aws("dynamodb").update_item(
        TableName=target.calls_table, Key=call_key, UpdateExpression="REMOVE disposition"
    )
    aws("dynamodb").update_item(
        TableName=target.campaigns_table,
        Key=campaign_key,
        UpdateExpression="REMOVE noAnswer SET events.Started = :t",
        ExpressionAttributeValues={":t": {"S": "2016-07-26T12:00:00.000Z"}},
    )

    first = replay.remap(target, progress=quiet)
    second = replay.remap(target, progress=quiet)

    assert first["updated"] >= 2
    assert second["updated"] == 0
    call = aws("dynamodb").get_item(TableName=target.calls_table, Key=call_key)["Item"]
    assert (call["disposition"], call["version"]) == ({"S": "AM"}, {"N": "3"})  # remap: a version
    assert "updatedAt" in call
    stored = aws("dynamodb").get_item(TableName=target.campaigns_table, Key=campaign_key)["Item"]
    assert stored["noAnswer"] == {"N": "12"}
    assert set(stored["events"]["M"]) == {"Started", "Finished"}
    assert stored["raw"]["S"].startswith("{")


def test_remap_reads_v2_bodies_and_legacy_campaign_bodies_kept_in_the_bucket(
    webhooks: WebhookClient, postback: PostbackClient, target: Target, aws: Any
) -> None:
    """A v2 event too large for its item (`rawS3Key`, `.json`) and a legacy campaign-finished too
    large for its item joined by v2 events (`postbackRawS3Key`) are read from the bucket."""
    body, call_id = v2_delivery("outbound_call_finished.json", notes="n" * 100_000)
    assert webhooks.post(body).status == 200
    campaign, campaign_id = v2_delivery("call_broadcast_finished.json")
    large_legacy = (
        event_body("campaign_finished.xml")
        .replace(b"22222", campaign_id.encode())
        .replace(b"</campaign>", b"<notes>" + b"n" * 100_000 + b"</notes></campaign>")
    )
    assert postback.post(large_legacy).status == 200
    assert webhooks.post(campaign).body["status"] == "updated"
    call_key = {"callId": {"S": call_id}, "eventType": {"S": "call"}}
    campaign_key = {"campaignId": {"S": campaign_id}}
    call = aws("dynamodb").get_item(TableName=target.calls_table, Key=call_key)["Item"]
    assert call["rawS3Key"]["S"].endswith(".json")
    stored = aws("dynamodb").get_item(TableName=target.campaigns_table, Key=campaign_key)["Item"]
    assert stored["postbackRawS3Key"]["S"].endswith(".xml")
    aws("dynamodb").update_item(
        TableName=target.calls_table, Key=call_key, UpdateExpression="REMOVE disposition"
    )
    aws("dynamodb").update_item(
        TableName=target.campaigns_table, Key=campaign_key, UpdateExpression="REMOVE noAnswer"
    )

    replay.remap(target, progress=quiet)

    call = aws("dynamodb").get_item(TableName=target.calls_table, Key=call_key)["Item"]
    assert call["disposition"] == {"S": "AM"}
    assert "raw" not in call
    stored = aws("dynamodb").get_item(TableName=target.campaigns_table, Key=campaign_key)["Item"]
    assert stored["noAnswer"] == {"N": "12"}
    assert "postbackRaw" not in stored


def test_remap_leaves_alone_an_item_the_receiver_did_not_write(target: Target, aws: Any) -> None:
    """An item put by hand (no `receivedAt`, no body) once stopped the whole remap (KeyError)."""
    key = {"callId": {"S": f"by-hand-{uuid.uuid4().hex}"}, "eventType": {"S": "call"}}
    aws("dynamodb").put_item(TableName=target.calls_table, Item={**key, "note": {"S": "mine"}})

    tallies = replay.remap(target, progress=quiet)

    assert tallies["not a stored report (left alone)"] >= 1
    item = aws("dynamodb").get_item(TableName=target.calls_table, Key=key)["Item"]
    assert item == {**key, "note": {"S": "mine"}}
