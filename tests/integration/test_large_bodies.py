"""Bodies too large for their items, on the real handler and tools over moto: the body goes to the
bucket under `raw/` before the item names it (`rawS3Key`), duplicates and conflicts are told apart
by content as for any report, and replay, remap and the query read such bodies as if inline."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.names import Env, Output
from local.faults import failing
from local.invoke import reset_function_state
from tests.helpers import REGION, event_body
from tests.integration.conftest import PostbackClient
from tests.integration.test_postback_handler import archived, get_call, unique
from tools import query, replay
from tools.target import Target

TODAY = datetime.now(UTC).date()


def long_call(notes: str) -> tuple[bytes, str]:
    body = event_body("call_finished.xml").replace(
        b"<notes>", b"<notes>" + notes.encode("utf-8"), 1
    )
    return unique(body)


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
        recordings_queue=postback.function.environment[Env.RECORDINGS_QUEUE_URL],
        description="moto",
    )


def body_object(aws: Callable[[str], Any], postback: PostbackClient, key: str) -> bytes:
    stored = aws("s3").get_object(Bucket=postback.outputs[Output.BUCKET], Key=key)
    return bytes(stored["Body"].read())


def test_a_200_kb_call_report_is_stored_whole_with_its_body_in_the_bucket(
    postback: PostbackClient, aws: Callable[[str], Any]
) -> None:
    """docs/configuration.md accepts 256 KiB; with `raw` beside the notes, such an item would pass
    DynamoDB's 400 KB and be refused."""
    notes = "Rückruf erbeten; " * 12_000
    body, call_id = long_call(notes)

    answer = postback.post(body)

    assert (answer.status, answer.body["status"]) == (200, "stored")
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert "raw" not in item
    assert item["notes"].startswith(notes.strip()[:1000])
    assert item["rawS3Key"] == f"raw/{hashlib.sha256(body).hexdigest()}.xml"
    assert body_object(aws, postback, item["rawS3Key"]) == body


def test_a_large_report_again_is_a_duplicate_and_other_content_a_conflict(
    postback: PostbackClient, aws: Callable[[str], Any]
) -> None:
    body, call_id = long_call("n" * 100_000)
    other = body.replace(b"nnnn", b"mmmm", 1)

    first, again, changed = postback.post(body), postback.post(body), postback.post(other)

    assert [a.body["status"] for a in (first, again, changed)] == [
        "stored",
        "duplicate",
        "conflict",
    ]
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert item["deliveries"] == 2
    assert body_object(aws, postback, item["rawS3Key"]) == body
    (kept,) = archived(aws, postback, "rejected/", postback.last_request_id)
    assert kept["body"] == other


def test_a_body_past_dynamodbs_limit_is_stored_with_its_largest_attribute_cut_short(
    postback: PostbackClient, aws: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(Env.MAX_BODY_BYTES, str(2 * 1024 * 1024))
    reset_function_state(keep_clients=True)
    notes = "n" * (1024 * 1024)
    body, call_id = long_call(notes)

    answer = postback.post(body)

    assert answer.body["status"] == "stored"
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert item["trimmed"] == ["notes"]
    assert notes.startswith(item["notes"])
    assert body_object(aws, postback, item["rawS3Key"]) == body


def test_replay_remap_and_the_query_read_a_body_kept_in_the_bucket(
    postback: PostbackClient, target: Target, aws: Callable[[str], Any]
) -> None:
    body, call_id = long_call("r" * 100_000)
    postback.post(event_body("call_minimal.xml"))
    with failing("dynamodb", "PutItem"):
        assert postback.post(body).status == 503

    replay.replay_archived(target, "unstored/", TODAY, TODAY, progress=quiet)
    key = {"callId": {"S": call_id}, "eventType": {"S": "call"}}
    aws("dynamodb").update_item(
        TableName=target.calls_table,
        Key=key,
        UpdateExpression="REMOVE disposition",
    )
    first = replay.remap(target, progress=quiet)
    second = replay.remap(target, progress=quiet)

    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert item["disposition"] == "TRANSFER", "remap read the body from the bucket"
    assert "raw" not in item
    assert first["updated"] >= 1
    assert second["updated"] == 0
    (row,) = query.calls_by_id(target, call_id)
    assert target.with_body(row)["raw"] == body.decode()
