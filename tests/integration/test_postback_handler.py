"""The real postback handler, with HTTP API v2 events, against moto tables, bucket, queue and secret
created from the synthesized template."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from functions.adapters.archive import archive_key
from functions.adapters.aws import ATTEMPTS, aws_service
from functions.names import Handler, Metric, Output, Route
from local.faults import counting, failing
from local.resources import LocalResources
from tests.helpers import documented_call_item, event_body
from tests.integration.conftest import Answer, PostbackClient

_deserializer = TypeDeserializer()
NOW = datetime.now(UTC)


def unique(body: bytes, old_id: bytes = b"111111") -> tuple[bytes, str]:
    """`body` with its call id replaced by a fresh one, so tests sharing moto never collide."""
    new_id = str(uuid.uuid4().int)[:12]
    return body.replace(old_id, new_id.encode()), new_id


def get_call(
    aws: Callable[[str], Any], postback: PostbackClient, call_id: str, event_type: str
) -> dict[str, Any] | None:
    response = aws("dynamodb").get_item(
        TableName=postback.outputs[Output.CALLS_TABLE],
        Key={"callId": {"S": call_id}, "eventType": {"S": event_type}},
        ConsistentRead=True,
    )
    item = response.get("Item")
    return (
        None
        if item is None
        else {name: _deserializer.deserialize(value) for name, value in item.items()}
    )


def archived(
    aws: Callable[[str], Any], postback: PostbackClient, prefix: str, request_id: str
) -> list[dict[str, Any]]:
    bucket = postback.outputs[Output.BUCKET]
    listing = aws("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    found = []
    for entry in listing.get("Contents", []):
        if entry["Key"].endswith(archive_key("", NOW, request_id)[len("2000/01/01") :]):
            obj = aws("s3").get_object(Bucket=bucket, Key=entry["Key"])
            found.append(
                {"key": entry["Key"], "body": obj["Body"].read(), "metadata": obj["Metadata"]}
            )
    return found


def queued_jobs(
    aws: Callable[[str], Any], resources: LocalResources, call_id: str
) -> list[dict[str, Any]]:
    queue_url = resources.function_for_handler(Handler.POSTBACK).environment["RECORDINGS_QUEUE_URL"]
    found = []
    for _ in range(10):
        messages = (
            aws("sqs")
            .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            .get("Messages", [])
        )
        if not messages:
            break
        for message in messages:
            job = json.loads(message["Body"])
            if job["callId"] == call_id:
                found.append(job)
                aws("sqs").delete_message(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
    return found


def test_documented_call_is_stored_with_every_attribute(postback: PostbackClient, aws: Any) -> None:
    body, call_id = unique(event_body("call_finished.xml"))

    answer = postback.post(body)

    assert answer.status == 200
    assert answer.body == {
        "status": "stored",
        "kind": "call",
        "id": call_id,
        "requestId": postback.last_request_id,
    }
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    received_at = item.pop("receivedAt")
    assert received_at.endswith("Z")
    assert item == {**documented_call_item(call_id), "raw": body.decode(), "deliveries": 1}


def test_recording_urls_are_queued_one_message_each(
    postback: PostbackClient, aws: Any, resources: LocalResources
) -> None:
    body, call_id = unique(event_body("call_unknown_elements.xml"), b"777")

    assert postback.post(body).status == 200

    jobs = sorted(queued_jobs(aws, resources, call_id), key=lambda job: job["index"])
    assert jobs == [
        {
            "callId": call_id,
            "eventType": "call",
            "campaignId": "22222",
            "index": 0,
            "url": "https://www.callfire.com/cloud/1/files/recording/1",
        },
        {
            "callId": call_id,
            "eventType": "call",
            "campaignId": "22222",
            "index": 1,
            "url": "https://www.callfire.com/cloud/1/files/recording/2/mp3",
        },
    ]


@pytest.mark.parametrize(
    ("sample", "event_type"), [("text_sent.xml", "text-sent"), ("text_reply.xml", "text-reply")]
)
def test_texts_are_stored_under_their_event_type(
    postback: PostbackClient, aws: Any, sample: str, event_type: str
) -> None:
    body, call_id = unique(event_body(sample))

    assert postback.post(body).status == 200

    item = get_call(aws, postback, call_id, event_type)
    assert item is not None
    assert item["dnis"] == "88202"
    assert "notes" not in item
    assert "recordings" not in item


def test_campaign_is_stored_in_the_campaigns_table(postback: PostbackClient, aws: Any) -> None:
    body, campaign_id = unique(event_body("campaign_finished.xml"), b"22222")

    answer = postback.post(body)

    assert (answer.status, answer.body["kind"], answer.body["id"]) == (200, "campaign", campaign_id)
    item = aws("dynamodb").get_item(
        TableName=postback.outputs[Output.CAMPAIGNS_TABLE], Key={"campaignId": {"S": campaign_id}}
    )["Item"]
    assert item["cost"] == {"N": "2.25"}
    assert item["currency"] == {"S": "USD"}
    assert item["noAnswer"] == {"N": "12"}
    assert item["deliveries"] == {"N": "1"}


def test_duplicate_delivery_stays_one_item_and_is_counted(
    postback: PostbackClient, aws: Any
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))

    first = postback.post(body)
    second = postback.post(body)
    third = postback.post(body)

    assert [first.body["status"], second.body["status"], third.body["status"]] == [
        "stored",
        "duplicate",
        "duplicate",
    ]
    assert all(answer.status == 200 for answer in (first, second, third))
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert item["deliveries"] == 3


def test_duplicate_arriving_during_the_first_write_stays_one_item(
    postback: PostbackClient, aws: Any
) -> None:
    """The second delivery runs to completion while the first is about to write; the first's
    conditional write then finds the item and counts itself as a duplicate."""
    body, call_id = unique(event_body("call_finished.xml"))
    answers: list[Answer] = []
    client = aws_service("dynamodb").client()
    interleaved = threading.Event()

    def deliver_again_first(**_: Any) -> None:
        if not interleaved.is_set():
            interleaved.set()
            answers.append(postback.post(body))

    client.meta.events.register(
        "before-call.dynamodb.PutItem", deliver_again_first, unique_id="interleave"
    )
    try:
        answers.append(postback.post(body))
    finally:
        client.meta.events.unregister("before-call.dynamodb.PutItem", unique_id="interleave")

    assert [answer.body["status"] for answer in answers] == ["stored", "duplicate"]
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert item["deliveries"] == 2


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_bad_or_missing_token_is_forbidden_and_stores_nothing(
    postback: PostbackClient, aws: Any, token: str | None
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))

    answer = postback.post(body, token=token)

    assert answer.status == 403
    assert answer.body == {
        "error": "forbidden",
        "message": "missing or wrong token",
        "requestId": postback.last_request_id,
    }
    assert get_call(aws, postback, call_id, "call") is None
    assert archived(aws, postback, "", postback.last_request_id) == []


def test_token_is_compared_whole_not_as_a_prefix(postback: PostbackClient) -> None:
    assert postback.post(event_body("call_minimal.xml"), token=postback.token[:-1]).status == 403
    assert postback.post(event_body("call_minimal.xml"), token=postback.token + "0").status == 403


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (event_body("xxe_file.xml"), 400, "forbidden_xml"),
        (event_body("billion_laughs.xml"), 400, "forbidden_xml"),
        (event_body("truncated.xml"), 400, "not_well_formed"),
        (b"", 400, "not_well_formed"),
        (event_body("unknown_root.xml"), 422, "unknown_report"),
        (event_body("call_without_callid.xml"), 422, "unknown_report"),
        (
            b"<call-finished><callid>1</callid>"
            + b"<notes>x</notes>" * 20_000
            + b"</call-finished>",
            413,
            "body_too_large",
        ),
    ],
)
def test_refused_bodies_get_their_status_and_are_archived_with_the_reason(
    postback: PostbackClient, aws: Any, body: bytes, status: int, error: str
) -> None:
    answer = postback.post(body)

    assert answer.status == status
    assert answer.body["error"] == error
    assert answer.body["requestId"] == postback.last_request_id
    assert answer.body["message"]
    (kept,) = archived(aws, postback, "rejected/", postback.last_request_id)
    assert kept["body"] == body
    assert kept["metadata"]["reason"] == error
    assert kept["key"].startswith("rejected/20")


def test_storage_down_answers_503_and_archives_the_body_as_unstored(
    postback: PostbackClient, aws: Any
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))
    postback.post(event_body("call_minimal.xml"))

    with failing("dynamodb", "PutItem", "ProvisionedThroughputExceededException") as calls:
        answer = postback.post(body)

    assert calls == ["PutItem"] * ATTEMPTS, "a throttled write is tried again while time is left"
    assert answer.status == 503
    assert answer.body["error"] == "storage_unavailable"
    assert get_call(aws, postback, call_id, "call") is None
    (kept,) = archived(aws, postback, "unstored/", postback.last_request_id)
    assert kept["body"] == body
    assert kept["metadata"]["reason"] == "ProvisionedThroughputExceededException"


def test_storage_and_archive_down_answers_503_and_writes_nothing(
    postback: PostbackClient, aws: Any, resources: LocalResources
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))
    postback.post(event_body("call_minimal.xml"))

    with failing("dynamodb", "PutItem"), failing("s3", "PutObject"):
        answer = postback.post(body)

    assert answer.status == 503
    assert get_call(aws, postback, call_id, "call") is None
    assert archived(aws, postback, "", postback.last_request_id) == []
    assert queued_jobs(aws, resources, call_id) == []


def test_queue_down_still_stores_the_report_with_recordings_pending(
    postback: PostbackClient, aws: Any, resources: LocalResources
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))
    postback.post(event_body("call_minimal.xml"))

    with failing("sqs", "SendMessageBatch"):
        answer = postback.post(body)

    assert answer.status == 200
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert [recording["status"] for recording in item["recordings"]] == ["PENDING"]
    assert queued_jobs(aws, resources, call_id) == []


def test_conflicting_report_keeps_the_first_and_archives_the_second(
    postback: PostbackClient, aws: Any
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))
    changed = body.replace(b"TRANSFER", b"BUSY")

    postback.post(body)
    answer = postback.post(changed)

    assert (answer.status, answer.body["status"]) == (200, "conflict")
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert (item["disposition"], item["deliveries"]) == ("TRANSFER", 1)
    (kept,) = archived(aws, postback, "rejected/", postback.last_request_id)
    assert (kept["body"], kept["metadata"]["reason"]) == (changed, "conflicting_duplicate")


def test_gzip_encoded_body_is_stored_inflated(postback: PostbackClient, aws: Any) -> None:
    body, call_id = unique(event_body("call_finished.xml"))

    answer = postback.post(gzip.compress(body), headers={"content-encoding": "gzip"})

    assert answer.status == 200
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert item["raw"] == body.decode()


def test_latin1_body_is_stored_with_its_accents(postback: PostbackClient, aws: Any) -> None:
    body, call_id = unique(event_body("call_latin1_encoding.xml"), b"9001")

    answer = postback.post(body, headers={"content-type": "application/octet-stream"})

    assert postback.sent[-1]["isBase64Encoded"] is True
    assert answer.status == 200
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert item["notes"] == "Café crème, señor"
    assert "Café crème" in item["raw"]


def test_form_content_type_with_a_raw_xml_body_is_read_as_xml(
    postback: PostbackClient, aws: Any
) -> None:
    body, call_id = unique(event_body("text_reply.xml"))

    answer = postback.post(body, headers={"content-type": "application/x-www-form-urlencoded"})

    assert answer.status == 200
    assert get_call(aws, postback, call_id, "text-reply") is not None


def test_token_secret_is_read_once_and_cached(postback: PostbackClient) -> None:
    with counting("secretsmanager", "GetSecretValue") as calls:
        for _ in range(3):
            assert postback.post(event_body("call_minimal.xml")).status == 200

    assert len(calls) == 1


def test_logs_carry_the_ids_and_never_the_token_or_the_body(
    postback: PostbackClient, log_output: list[str]
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))

    postback.post(body)
    postback.post(b"<oops", token=postback.token)
    postback.post(body, token="not-the-token")

    output = "\n".join(log_output)
    log_lines = [json.loads(line) for line in log_output]
    assert {line["message"] for line in log_lines} >= {"report stored", "body refused"}
    stored = next(line for line in log_lines if line["message"] == "report stored")
    assert (stored["callId"], stored["campaignId"], stored["kind"]) == (call_id, "22222", "call")
    assert postback.token not in output
    assert "not-the-token" not in output
    assert "notes that a call center" not in output


def test_metrics_count_reports_by_kind_and_refusals_by_reason(
    postback: PostbackClient, capsys: pytest.CaptureFixture[str]
) -> None:
    body, _ = unique(event_body("text_sent.xml"))
    postback.post(body)
    postback.post(body)
    postback.post(event_body("unknown_root.xml"))

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    metrics = [
        (blob.get("kind") or blob.get("reason"), definition["Name"])
        for blob in blobs
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for definition in directive["Metrics"]
    ]
    assert ("text-sent", Metric.REPORTS_STORED) in metrics
    assert ("text-sent", Metric.REPORTS_DUPLICATE) in metrics
    assert ("unknown_report", Metric.REPORTS_REFUSED) in metrics
    assert metrics.count(("text-sent", Metric.REPORTS_RECEIVED)) == 2


def test_a_base64_encoded_event_body_is_decoded_before_it_is_read(
    postback: PostbackClient, aws: Any
) -> None:
    """API Gateway hands binary media types over base64-encoded, with `isBase64Encoded`: the
    handler must store the body CallFire sent, not its base64 text."""
    body, call_id = unique(event_body("call_minimal.xml"), b"42")
    event = {
        "version": "2.0",
        "routeKey": f"POST {Route.POSTBACKS}",
        "rawPath": Route.POSTBACKS,
        "rawQueryString": f"{Route.TOKEN_PARAMETER}={postback.token}",
        "queryStringParameters": {Route.TOKEN_PARAMETER: postback.token},
        "headers": {"content-type": "application/octet-stream"},
        "requestContext": {
            "http": {"method": "POST", "path": Route.POSTBACKS, "sourceIp": "192.0.2.1"},
            "requestId": "base64-request",
            "routeKey": f"POST {Route.POSTBACKS}",
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": True,
    }

    answer = postback.invoke(event)

    assert answer.status == 200
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert item["raw"] == body.decode()
