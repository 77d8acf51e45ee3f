"""Every body of the hostile corpus through the real handler of its route (postbacks, or signed
webhook deliveries): the answer the contract gives, the body archived when refused, stored
correctly when accepted, and bounded memory per body."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from functions.names import Output
from functions.postback.body import unwrap_body
from functions.postback.delivery import read_webhook
from functions.postback.signature import signature_of
from functions.reports import CallReport, CampaignReport, ReportRejected, read_report
from functions.reports.items import fit_item, to_item
from tests.helpers import EVENTS
from tests.integration.conftest import Answer, PostbackClient, WebhookClient

HOSTILE = EVENTS / "hostile"
EXPECTED: dict[str, dict[str, Any]] = json.loads((HOSTILE / "expected.json").read_text())
MEMORY_BOUND_BYTES = 64 * 1024 * 1024
_deserializer = TypeDeserializer()


def test_the_corpus_is_large_enough_and_every_body_has_an_answer() -> None:
    bodies = {
        path.name
        for path in HOSTILE.iterdir()
        if path.name not in {"expected.json", "make_corpus.py"}
    }

    assert len(bodies) >= 30
    assert bodies == set(EXPECTED)


def stored_item(
    aws: Any, postback: PostbackClient | WebhookClient, kind: str, body_id: str
) -> dict[str, Any]:
    if kind == "campaign":
        table, key = postback.outputs[Output.CAMPAIGNS_TABLE], {"campaignId": {"S": body_id}}
    else:
        table, key = (
            postback.outputs[Output.CALLS_TABLE],
            {"callId": {"S": body_id}, "eventType": {"S": kind}},
        )
    item = aws("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def archived_body(
    aws: Any, postback: PostbackClient | WebhookClient, request_id: str, extension: str = "xml"
) -> tuple[bytes, dict[str, str]]:
    bucket = postback.outputs[Output.BUCKET]
    listing = aws("s3").list_objects_v2(Bucket=bucket, Prefix="rejected/")
    (key,) = [
        entry["Key"]
        for entry in listing.get("Contents", [])
        if entry["Key"].endswith(f"/{request_id}.{extension}")
    ]
    stored = aws("s3").get_object(Bucket=bucket, Key=key)
    return stored["Body"].read(), stored["Metadata"]


WEBHOOK_BODIES = sorted(name for name, expected in EXPECTED.items() if expected.get("route"))
POSTBACK_BODIES = sorted(name for name in EXPECTED if name not in WEBHOOK_BODIES)


def delivered(webhooks: WebhookClient, body: bytes, expected: dict[str, Any]) -> Answer:
    """The body sent to /webhooks, signed over its bytes, over other bytes, or not at all."""
    signing = expected.get("signature")
    signature = {
        None: "",
        "none": None,
        "over-other-bytes": signature_of(webhooks.secret, body + b" "),
    }[signing]
    return webhooks.post(body, signature=signature, headers=expected.get("headers"))


@pytest.mark.parametrize("name", WEBHOOK_BODIES)
def test_hostile_delivery_gets_its_answer(name: str, webhooks: WebhookClient, aws: Any) -> None:
    expected = EXPECTED[name]
    body = (HOSTILE / name).read_bytes()

    answer = delivered(webhooks, body, expected)

    assert answer.status == expected["status"], answer.body
    if answer.status == 403:
        assert archived_events(aws, webhooks, webhooks.last_request_id) == []
    elif answer.status == 200:
        assert answer.body["outcomes"] == expected["outcomes"]
        stored = expected.get("stored")
        if stored:
            item = stored_item(aws, webhooks, "call", stored["callId"])
            for attribute, value in stored.items():
                assert item[attribute] == value
            assert item["source"] == "v2-webhook"
        if "refused" in expected["outcomes"]:
            kept, metadata = archived_body(aws, webhooks, answer.body["requestId"], "json")
            assert (kept, metadata["reason"]) == (body, "unknown_report")
    else:
        assert answer.body["error"] == expected["error"]
        kept, metadata = archived_body(aws, webhooks, answer.body["requestId"], "json")
        assert kept == body
        assert metadata["reason"] == expected["error"]


def archived_events(aws: Any, client: WebhookClient, request_id: str) -> list[str]:
    listing = aws("s3").list_objects_v2(Bucket=client.outputs[Output.BUCKET])
    return [e["Key"] for e in listing.get("Contents", []) if request_id in e["Key"]]


@pytest.mark.parametrize("name", POSTBACK_BODIES)
def test_hostile_body_gets_its_answer(name: str, postback: PostbackClient, aws: Any) -> None:
    expected = EXPECTED[name]
    body = (HOSTILE / name).read_bytes()

    answer = postback.post(body, headers=expected.get("headers"))

    assert answer.status == expected["status"], answer.body
    if answer.status == 200:
        assert answer.body["status"] == "stored"
        assert answer.body["kind"] == expected["kind"]
        item = stored_item(aws, postback, expected["kind"], answer.body["id"])
        for attribute, value in expected.get("stored", {}).items():
            assert item[attribute] == value
        assert item["deliveries"] == 1
    else:
        assert answer.body["error"] == expected["error"]
        kept, metadata = archived_body(aws, postback, answer.body["requestId"])
        assert kept == body
        assert metadata["reason"] == expected["error"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reading_a_hostile_body_takes_bounded_memory(name: str) -> None:
    """The reading path alone (inflate, decode, parse, map), traced: where a hostile body could
    make memory explode (entity expansion, gzip bombs, deep nesting), it must not."""
    body = (HOSTILE / name).read_bytes()
    encoding = EXPECTED[name].get("headers", {}).get("content-encoding")

    tracemalloc.start()
    try:
        if EXPECTED[name].get("route"):
            _read_delivery(body, encoding)
        else:
            report, text = read_report(unwrap_body(body, encoding, 256 * 1024))
            fit_item(to_item(report, raw=text, received_at="2026-01-01T00:00:00Z"))
        outcome = "read"
    except ReportRejected as refusal:
        outcome = refusal.reason.value
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    assert peak < MEMORY_BOUND_BYTES
    if EXPECTED[name].get("signature") or EXPECTED[name]["status"] == 422:
        return  # refused for its signature, or event by event: read all the same
    assert outcome == EXPECTED[name].get("error", "read")


def _read_delivery(body: bytes, encoding: str | None) -> None:
    """The webhooks function's reading path: the delivery, then each event's item."""
    for event in read_webhook(body, encoding, 256 * 1024).events:
        if isinstance(event.content, CallReport | CampaignReport):
            fit_item(to_item(event.content, raw=event.raw, received_at="t"))


def test_corpus_file_listing_is_current() -> None:
    """`make_corpus.py` made these files; a body edited by hand would drift from its answer."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", HOSTILE / "make_corpus.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, (body, _) in module.BODIES.items():
        assert (HOSTILE / name).read_bytes() == body, (
            f"{name} differs from what make_corpus.py writes"
        )
