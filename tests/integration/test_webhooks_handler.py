"""The real webhooks handler, with HTTP API v2 events, against moto tables, bucket, queue, topic and
secret created from the synthesized template."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from functions.adapters.aws import aws_service
from functions.names import Env, Handler, Metric, Output, Route
from functions.postback.signature import signature_of
from local.faults import counting, failing
from local.resources import LocalResources
from tests.helpers import EVENTS, event_body
from tests.integration.conftest import PostbackClient, WebhookClient

_deserializer = TypeDeserializer()
V2 = EVENTS / "v2"


@contextmanager
def before_each(operation: str, hook: Callable[..., None]) -> Iterator[None]:
    """`hook` runs before each DynamoDB `operation` of the functions' clients (every tier's)."""
    clients = aws_service("dynamodb").clients()
    event = f"before-call.dynamodb.{operation}"
    for client in clients:
        client.meta.events.register(event, hook, unique_id=hook.__name__)
    try:
        yield
    finally:
        for client in clients:
            client.meta.events.unregister(event, unique_id=hook.__name__)


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((V2 / name).read_text())["events"][0]
    return event


def fresh_id() -> int:
    return uuid.uuid4().int % 10**15


def with_resource(name: str, **resource: Any) -> dict[str, Any]:
    event = sample_event(name)
    event["resource"] = {**event["resource"], "id": fresh_id(), **resource}
    return event


def delivery(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {"timestamp": 1469540830377, "webhookId": 3749003, "webhookName": "t", "events": events}
    ).encode()


def plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def get_call(
    client: WebhookClient, call_id: str, event_type: str = "call"
) -> dict[str, Any] | None:
    item = (
        aws_service("dynamodb")
        .client()
        .get_item(
            TableName=client.outputs[Output.CALLS_TABLE],
            Key={"callId": {"S": call_id}, "eventType": {"S": event_type}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return None if item is None else plain(item)


def archived(aws: Any, client: WebhookClient, prefix: str) -> list[dict[str, Any]]:
    bucket = client.outputs[Output.BUCKET]
    found = []
    for entry in aws("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        if entry["Key"].endswith(f"/{client.last_request_id}.json"):
            obj = aws("s3").get_object(Bucket=bucket, Key=entry["Key"])
            found.append(
                {
                    "key": entry["Key"],
                    "body": obj["Body"].read(),
                    "metadata": obj["Metadata"],
                    "contentType": obj["ContentType"],
                }
            )
    return found


def test_the_documented_call_is_stored_from_its_signed_delivery(
    webhooks: WebhookClient, aws: Any
) -> None:
    body = (V2 / "outbound_call_finished.json").read_bytes()

    answer = webhooks.post(body)

    assert answer.status == 200
    assert answer.body == {
        "status": "stored",
        "events": 1,
        "outcomes": {"stored": 1},
        "requestId": webhooks.last_request_id,
    }
    item = get_call(webhooks, "1024990109003")
    assert item is not None
    assert item["raw"] in body.decode()
    assert json.loads(item["raw"]) == json.loads(body)["events"][0]
    assert (item["source"], item["webhookId"], item["campaignId"]) == (
        "v2-webhook",
        "3749003",
        "13194908003",
    )
    assert (item["callStart"], item["durationSeconds"], item["inbound"]) == (
        "2016-07-26T20:33:45.000Z",
        6,
        False,
    )
    assert item["receivedAt"].endswith("Z")
    assert item["deliveries"] == 1


@pytest.mark.parametrize("signature", [None, "", "wrong", "v14pF7d5C1+CHNIEWlg+sw9v0Xg="])
def test_a_missing_or_wrong_signature_is_forbidden_and_keeps_nothing(
    webhooks: WebhookClient, aws: Any, signature: str | None
) -> None:
    event = with_resource("outbound_call_finished.json")
    body = delivery(event)

    answer = webhooks.post(body, signature=signature if signature != "" else " ")

    assert answer.status == 403
    assert answer.body == {
        "error": "forbidden",
        "message": "missing or wrong signature",
        "requestId": webhooks.last_request_id,
    }
    assert get_call(webhooks, str(event["resource"]["id"])) is None
    assert archived(aws, webhooks, "") == []


def test_a_signature_over_other_bytes_is_forbidden(webhooks: WebhookClient, aws: Any) -> None:
    event = with_resource("outbound_call_finished.json")
    body = delivery(event)
    other = json.dumps(json.loads(body), indent=1).encode()

    answer = webhooks.post(body, signature=signature_of(webhooks.secret, other))

    assert answer.status == 403
    assert get_call(webhooks, str(event["resource"]["id"])) is None
    assert archived(aws, webhooks, "") == []


def test_a_signed_body_passed_base64_encoded_is_checked_over_its_bytes(
    webhooks: WebhookClient,
) -> None:
    event = with_resource("outbound_call_finished.json")
    body = delivery(event)

    answer = webhooks.post(body, headers={"content-type": "application/octet-stream"})

    assert webhooks.sent[-1]["isBase64Encoded"] is True
    assert base64.b64decode(webhooks.sent[-1]["body"]) == body
    assert answer.status == 200
    assert get_call(webhooks, str(event["resource"]["id"])) is not None


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "not_well_formed"),
        (b'{"webhookId": 1, "resourceType": "OutboundCall"}', 400, "no_events"),
        (b'{"events": []}', 422, "unknown_report"),
        (b'{"events": [{}], "pad": "' + b"x" * (256 * 1024) + b'"}', 413, "body_too_large"),
        (b'{"events": [' + b",".join([b"{}"] * 10_000) + b"]}", 413, "body_too_large"),
        (b'{"events": [{"a": 1, "a": 2}]}', 400, "not_well_formed"),
    ],
)
def test_refused_deliveries_get_their_status_and_are_archived_as_json(
    webhooks: WebhookClient, aws: Any, body: bytes, status: int, error: str
) -> None:
    answer = webhooks.post(body)

    assert (answer.status, answer.body["error"]) == (status, error)
    (kept,) = archived(aws, webhooks, "rejected/")
    assert kept["body"] == body
    assert kept["metadata"]["reason"] == error
    assert kept["contentType"] == "application/json"


def test_every_event_of_a_delivery_becomes_an_item(webhooks: WebhookClient) -> None:
    call = with_resource("outbound_call_finished.json")
    text = with_resource("outbound_text_finished.json")
    reply = with_resource("inbound_text_finished.json")

    answer = webhooks.post(delivery(call, text, reply))

    assert (answer.status, answer.body["events"], answer.body["outcomes"]) == (
        200,
        3,
        {"stored": 3},
    )
    assert get_call(webhooks, str(call["resource"]["id"])) is not None
    assert get_call(webhooks, str(text["resource"]["id"]), "text-sent") is not None
    stored_reply = get_call(webhooks, str(reply["resource"]["id"]), "text-reply")
    assert stored_reply is not None
    assert stored_reply["smsReceived"] == "a new test message"


def test_storage_down_answers_503_and_keeps_the_delivery_in_unstored(
    webhooks: WebhookClient, aws: Any
) -> None:
    event = with_resource("outbound_call_finished.json")
    body = delivery(event)
    webhooks.post(delivery(with_resource("outbound_call_finished.json")))

    with failing("dynamodb", "PutItem", "ProvisionedThroughputExceededException"):
        answer = webhooks.post(body)

    assert (answer.status, answer.body["error"]) == (503, "storage_unavailable")
    (kept,) = archived(aws, webhooks, "unstored/")
    assert (kept["body"], kept["metadata"]["reason"]) == (
        body,
        "ProvisionedThroughputExceededException",
    )
    assert get_call(webhooks, str(event["resource"]["id"])) is None


def fail_puts_of(call_id: str) -> Callable[..., None]:
    """A hook that fails every PutItem of `call_id`'s item as DynamoDB would, on every attempt."""
    from botocore.exceptions import ClientError

    def fail_puts(params: dict[str, Any], **_: Any) -> None:
        if f'"callId": {{"S": "{call_id}"}}' in str(params.get("body", b""), "utf-8"):
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "injected"}}, "PutItem"
            )

    return fail_puts


def test_a_delivery_half_stored_and_sent_again_stores_the_rest_without_duplicates(
    webhooks: WebhookClient, aws: Any
) -> None:
    events = [with_resource("outbound_call_finished.json") for _ in range(3)]
    body = delivery(*events)
    ids = [str(event["resource"]["id"]) for event in events]

    with before_each("PutItem", fail_puts_of(ids[1])):
        first = webhooks.post(body)
    second = webhooks.post(body)

    assert first.status == 503
    assert second.status == 200
    assert second.body["outcomes"] == {"duplicate": 1, "stored": 2}
    items = [get_call(webhooks, call_id) for call_id in ids]
    assert [item["deliveries"] if item else None for item in items] == [2, 1, 1]


def test_byCampaign_and_byPhoneNumber_find_both_generations(
    webhooks: WebhookClient, postback: PostbackClient, aws: Any
) -> None:
    campaign = str(fresh_id())
    phone = f"1213{fresh_id() % 10**7:07d}"
    legacy_id = str(fresh_id())
    legacy = (
        event_body("call_finished.xml")
        .replace(b"111111", legacy_id.encode())
        .replace(b"22222", campaign.encode())
        .replace(b"2132212289", phone.encode())
    )
    v2 = with_resource("outbound_call_finished.json", campaignId=int(campaign), toNumber=phone)

    assert postback.post(legacy).status == 200
    assert webhooks.post(delivery(v2)).status == 200

    for index, name, value in (
        ("byCampaign", "campaignId", campaign),
        ("byPhoneNumber", "phoneNumber", phone),
    ):
        found = aws("dynamodb").query(
            TableName=webhooks.outputs[Output.CALLS_TABLE],
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": name},
            ExpressionAttributeValues={":v": {"S": value}},
            ScanIndexForward=False,
        )["Items"]
        assert sorted(item["callId"]["S"] for item in found) == sorted(
            [legacy_id, str(v2["resource"]["id"])]
        ), index


def test_other_resource_types_are_kept_in_events(webhooks: WebhookClient, aws: Any) -> None:
    body = (V2 / "outbound_text_delivery_report_received.json").read_bytes()

    answer = webhooks.post(body)

    assert answer.body["outcomes"] in ({"kept": 1}, {"duplicate": 1})
    key = "events/OutboundTextDeliveryReport/2017/08/08/1-1502221022807-0.json"
    kept = aws("s3").get_object(Bucket=webhooks.outputs[Output.BUCKET], Key=key)
    assert kept["ContentType"] == "application/json"
    assert b'"id": 7420017300281076000' in kept["Body"].read()


def test_low_balance_is_told_on_the_alarm_topic(
    webhooks: WebhookClient, aws: Any, resources: LocalResources
) -> None:
    topic_arn = webhooks.function.environment[Env.ALARM_TOPIC_ARN]
    queue_url = aws("sqs").create_queue(QueueName=f"alarms-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    stamp = 1700000000000 + fresh_id() % 10**6
    body = delivery(
        {"timestamp": stamp, "resourceType": "LowBalance", "eventType": "Finished", "resource": {}}
    )

    answer = webhooks.post(body)

    assert answer.body["outcomes"] == {"kept": 1}
    (message,) = aws("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    notice = json.loads(message["Body"])
    assert notice["Subject"] == "CallFire: low balance (Finished)"
    assert f"events/LowBalance/2023/11/14/3749003-{stamp}-0.json" in notice["Message"]


def test_the_webhook_secret_is_read_once_and_cached(webhooks: WebhookClient) -> None:
    with counting("secretsmanager", "GetSecretValue") as calls:
        for _ in range(3):
            assert (
                webhooks.post(delivery(with_resource("outbound_call_finished.json"))).status == 200
            )

    assert len(calls) == 1


def test_logs_never_carry_the_secret_or_the_signature(
    webhooks: WebhookClient, log_output: list[str]
) -> None:
    body = delivery(with_resource("outbound_call_finished.json"))
    signature = signature_of(webhooks.secret, body)

    webhooks.post(body)
    webhooks.post(b"{oops")
    webhooks.post(body, signature="forged-signature")

    output = "\n".join(log_output)
    assert {json.loads(line)["message"] for line in log_output} >= {
        "delivery received",
        "delivery refused",
    }
    assert webhooks.secret not in output
    assert signature not in output
    assert "forged-signature" not in output


def test_metrics_count_each_event_for_the_service(
    webhooks: WebhookClient, capsys: pytest.CaptureFixture[str]
) -> None:
    call = with_resource("outbound_call_finished.json")
    webhooks.post(delivery(call, with_resource("outbound_call_finished.json")))
    webhooks.post(delivery(call))

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    values = [
        (definition["Name"], blob[definition["Name"]], directive["Dimensions"])
        for blob in blobs
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for definition in directive["Metrics"]
    ]
    assert (Metric.REPORTS_STORED, [2.0], [["service"]]) in values
    assert (Metric.REPORTS_RECEIVED, [2.0], [["service"]]) in values
    assert (Metric.REPORTS_DUPLICATE, [1.0], [["service"]]) in values


def test_the_route_is_the_one_the_template_declares(resources: LocalResources) -> None:
    routes = resources.routes()

    assert routes[f"POST {Route.WEBHOOKS}"].handler == Handler.WEBHOOKS
    assert routes[f"POST {Route.POSTBACKS}"].handler == Handler.POSTBACK


# Versions and campaigns: the store-once rule's merges, on DynamoDB's conditional writes.


def test_a_newer_version_of_a_call_replaces_the_older_one(webhooks: WebhookClient) -> None:
    event = with_resource("outbound_call_finished.json")
    call_id = str(event["resource"]["id"])
    newer = {**event, "resource": {**event["resource"], "modified": 1469565299000}}
    newer["resource"]["finalCallResult"] = "LA"
    older = {**event, "resource": {**event["resource"], "modified": 1469565200000}}
    older["resource"]["finalCallResult"] = "BUSY"

    first = webhooks.post(delivery(event))
    replaced = webhooks.post(delivery(newer))
    stale = webhooks.post(delivery(older))

    assert [first.body["status"], replaced.body["status"], stale.body["status"]] == [
        "stored",
        "updated",
        "conflict",
    ]
    item = get_call(webhooks, call_id)
    assert item is not None
    assert (item["disposition"], item["version"], item["deliveries"]) == ("LA", 2, 1)
    assert item["resourceModified"] == "2016-07-26T20:34:59.000Z"
    assert item["updatedAt"] > item["receivedAt"] or item["updatedAt"] == item["receivedAt"]


def test_campaign_events_from_both_generations_join_one_item(
    webhooks: WebhookClient, postback: PostbackClient, aws: Any
) -> None:
    campaign_id = fresh_id()
    started = sample_event("call_broadcast_finished.json")
    started.update(eventType="Started", timestamp=started["timestamp"] - 3_600_000)
    started["resource"] = {**started["resource"], "id": campaign_id, "status": "RUNNING"}
    finished = sample_event("call_broadcast_finished.json")
    finished["resource"] = {**finished["resource"], "id": campaign_id}
    legacy = event_body("campaign_finished.xml").replace(b"22222", str(campaign_id).encode())

    answers = [
        webhooks.post(delivery(finished)).body["status"],
        postback.post(legacy).body["status"],
        webhooks.post(delivery(started)).body["status"],
        postback.post(legacy).body["status"],
    ]

    assert answers == ["stored", "updated", "updated", "duplicate"]
    item = plain(
        aws("dynamodb").get_item(
            TableName=webhooks.outputs[Output.CAMPAIGNS_TABLE],
            Key={"campaignId": {"S": str(campaign_id)}},
            ConsistentRead=True,
        )["Item"]
    )
    assert item["events"] == {
        "Started": "2016-07-26T12:02:51.888Z",
        "Finished": "2016-07-26T13:02:51.888Z",
    }
    assert (item["status"], item["source"], item["campaignType"]) == (
        "STOPPED",
        "v2-webhook",
        "CallBroadcast",
    )
    assert (item["noAnswer"], item["currency"], item["postbackRaw"]) == (12, "USD", legacy.decode())
    assert json.loads(item["raw"])["eventType"] == "Finished"
    assert (item["version"], item["deliveries"]) == (3, 2)


def test_a_copy_recorded_while_a_newer_version_is_written_is_kept(
    webhooks: WebhookClient, aws: Any
) -> None:
    """The recordings function marks entry 0 COPIED between the handler's read of the item and
    its conditional write of the newer version: only what changed is written, so the copy
    stays recorded (DynamoDB UpdateItem sets each path named, and nothing else)."""
    event = sample_event("outbound_call_finished_with_recordings.json")
    event["resource"]["id"] = fresh_id()
    call_id = str(event["resource"]["id"])
    webhooks.post(delivery(event))
    newer = json.loads(json.dumps(event))
    newer["resource"]["modified"] += 1000
    newer["resource"]["records"][0]["recordings"][1]["state"] = "READY"
    table = webhooks.outputs[Output.CALLS_TABLE]

    def copy_meanwhile(**_: Any) -> None:
        aws("dynamodb").update_item(
            TableName=table,
            Key={"callId": {"S": call_id}, "eventType": {"S": "call"}},
            UpdateExpression="SET recordings[0].#s = :c, recordings[0].s3Key = :k",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":c": {"S": "COPIED"}, ":k": {"S": "recordings/x/0.mp3"}},
        )

    with before_each("UpdateItem", copy_meanwhile):
        answer = webhooks.post(delivery(newer))

    assert answer.body["status"] == "updated"
    item = get_call(webhooks, call_id)
    assert item is not None
    assert (item["recordings"][0]["status"], item["recordings"][0]["s3Key"]) == (
        "COPIED",
        "recordings/x/0.mp3",
    )
    assert item["recordings"][1]["recordingState"] == "READY"
    assert item["version"] == 2


def test_a_version_written_meanwhile_makes_the_older_one_a_conflict(
    webhooks: WebhookClient,
) -> None:
    """Two newer versions race: the one that writes second read the item before the first wrote,
    so its conditional write fails, it reads again, and it is older than what is stored now."""
    event = with_resource("outbound_call_finished.json")
    call_id = str(event["resource"]["id"])
    webhooks.post(delivery(event))
    middle = {**event, "resource": {**event["resource"], "modified": 1469565240000}}
    newest = {**event, "resource": {**event["resource"], "modified": 1469565250000}}
    newest["resource"]["state"] = "NEWEST"
    answers: list[Any] = []
    raced: list[bool] = []

    def newest_first(**_: Any) -> None:
        if not raced:
            raced.append(True)
            answers.append(webhooks.post(delivery(newest)))

    with before_each("UpdateItem", newest_first):
        answers.append(webhooks.post(delivery(middle)))

    assert [answer.body["status"] for answer in answers] == ["updated", "conflict"]
    item = get_call(webhooks, call_id)
    assert item is not None
    assert (item["state"], item["version"]) == ("NEWEST", 2)
