"""Reports as the DynamoDB items of docs/contract.md."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import pytest

from functions.adapters.recording_entries import MAX_REASON_CHARS
from functions.names import DEFAULT_RECORDING_MAX_BYTES, CallsTable
from functions.recordings.jobs import RecordingJob
from functions.recordings.naming import recording_key
from functions.reports import CallReport, EventType, RejectReason, ReportRejected, read_report
from functions.reports.items import (
    ALWAYS_INLINE_RAW_BYTES,
    DYNAMODB_ITEM_BYTES,
    INLINE_ITEM_BYTES,
    MAX_ITEM_BYTES,
    RECORDING_COPY_BYTES,
    ReportItem,
    Table,
    body_key,
    body_sha256,
    fit_item,
    item_size,
    to_item,
)
from tests.helpers import documented_call_item, event_body

RECEIVED_AT = "2026-11-28T05:26:07.123Z"


def item_of(name: str) -> dict[str, object]:
    report, text = read_report(event_body(name))
    return to_item(report, raw=text, received_at=RECEIVED_AT).attributes


def test_call_item_has_the_briefs_attribute_names() -> None:
    body = event_body("call_finished.xml")

    assert item_of("call_finished.xml") == {
        **documented_call_item(),
        "raw": body.decode(),
        "receivedAt": RECEIVED_AT,
        "deliveries": 1,
    }


def test_index_attributes_are_attributes_the_items_have() -> None:
    produced = set()
    for sample in (
        "call_finished.xml",
        "text_sent.xml",
        "text_reply.xml",
        "call_camel_case_names.xml",
    ):
        produced |= set(item_of(sample))

    assert set(CallsTable.INDEX_ATTRIBUTES) <= produced


def test_text_items_are_keyed_by_event_type() -> None:
    sent = item_of("text_sent.xml")
    reply = item_of("text_reply.xml")

    assert (sent["callId"], sent["eventType"], sent["smsSent"]) == (
        "111111",
        "text-sent",
        "sent message",
    )
    assert (reply["eventType"], reply["smsReceived"], reply["replyFromCampaign"]) == (
        "text-reply",
        "Reply message",
        "2740908",
    )
    assert "notes" not in sent
    assert "recordings" not in sent
    assert "extra" not in sent


def test_campaign_item_flattens_statistics_as_numbers() -> None:
    report, text = read_report(event_body("campaign_finished.xml"))
    item = to_item(report, raw=text, received_at=RECEIVED_AT)

    assert item.table is Table.CAMPAIGNS
    assert item.key == {"campaignId": "22222"}
    attributes = item.attributes
    assert attributes["cost"] == Decimal("2.25")
    assert (attributes["currency"], attributes["costRaw"]) == ("USD", "$2.25")
    assert {name: attributes[name] for name in ("total", "noAnswer", "busy", "misc")} == {
        "total": 100,
        "noAnswer": 12,
        "busy": 6,
        "misc": 0,
    }
    assert attributes["name"] == "My Campaign Name"
    assert attributes["deliveries"] == 1


def test_absent_values_are_absent_attributes() -> None:
    item = to_item(CallReport(call_id="1", event_type=EventType.CALL), raw="<x/>", received_at="t")

    assert item.attributes == {
        "callId": "1",
        "eventType": "call",
        "raw": "<x/>",
        "receivedAt": "t",
        "deliveries": 1,
        "source": "legacy-postback",
    }


def test_item_size_counts_names_and_values() -> None:
    assert item_size("abc") == 3
    assert item_size("é") == 2
    assert item_size({"ab": "cd"}) == 3 + 2 + 2 + 1
    assert item_size([1, 2]) == 3 + 22 + 22


@pytest.mark.parametrize(
    "inner",
    [
        "<x>" * 10 + "<a/>" * 450 + "</x>" * 10,
        "<x>" * 10 + "<a><b/></a>" * 160 + "</x>" * 10,
        "<a/>" * 480,
        "".join(f'<v{i} a="1" b="2"/>' for i in range(100)),
        "<stored-data>" + '<var name="n"/>' * 120 + "</stored-data>",
        "<recordings>" + "<file>u</file>" * 140 + "</recordings>",
    ],
    ids=[
        "truncated-siblings",
        "truncated-parents",
        "empty-unknowns",
        "attributes",
        "repeated-vars",
        "many-recordings",
    ],
)
def test_small_bodies_always_keep_their_body_even_at_their_worst(inner: str) -> None:
    body = f"<call-finished><callid>1</callid>{inner}</call-finished>"
    assert len(body.encode()) <= ALWAYS_INLINE_RAW_BYTES
    report, text = read_report(body)
    item = to_item(report, raw=text, received_at=RECEIVED_AT)

    size = item_size(item.attributes)
    room = MAX_ITEM_BYTES - RECORDING_COPY_BYTES * len(item.attributes.get("recordings", []))

    assert size <= 16 * len(body.encode()) + 2048
    assert size <= min(INLINE_ITEM_BYTES, room)
    assert fit_item(item) is item


def call_item(inner: str, *, recordings: int = 0) -> ReportItem:
    files = "<recordings>" + "<file>https://x/1</file>" * recordings + "</recordings>"
    body = f"<call-finished><callid>1</callid><campaignid>2</campaignid>{inner}{files}"
    report, text = read_report(body + "</call-finished>")
    return to_item(report, raw=text, received_at=RECEIVED_AT)


def test_an_item_that_would_pass_the_inline_size_keeps_its_body_in_the_bucket() -> None:
    item = call_item("<notes>" + "n" * INLINE_ITEM_BYTES + "</notes>")

    fitted = fit_item(item)

    assert "raw" not in fitted.attributes
    assert (
        fitted.attributes["rawS3Key"] == f"raw/{hashlib.sha256(item.raw.encode()).hexdigest()}.xml"
    )
    assert fitted.body_in_bucket == item.raw
    assert fitted.raw == item.raw
    assert fitted.body_sha256 == item.body_sha256 == body_sha256(fitted.attributes)
    assert fitted.attributes["notes"] == "n" * INLINE_ITEM_BYTES
    assert "trimmed" not in fitted.attributes


def test_the_same_body_is_the_same_report_wherever_it_is_kept() -> None:
    inline = call_item("<notes>short</notes>")
    in_bucket = ReportItem(
        inline.table,
        inline.key,
        {
            **{k: v for k, v in inline.attributes.items() if k != "raw"},
            "rawS3Key": body_key(inline.raw),
        },
        body_in_bucket=inline.raw,
    )

    assert body_sha256(inline.attributes) == body_sha256(in_bucket.attributes)
    assert in_bucket.body_sha256 == inline.body_sha256
    assert call_item("<notes>other</notes>").body_sha256 != inline.body_sha256


def test_a_200_kb_call_report_is_stored_whole_within_dynamodbs_item_size() -> None:
    """docs/configuration.md accepts 256 KiB; a call with long notes is what a new user sends
    first."""
    notes = "Kunde möchte Rückruf. " * 9000  # about 200 KB
    item = fit_item(call_item(f"<notes>{notes}</notes>"))

    assert item.attributes["notes"] == notes.strip()
    assert "trimmed" not in item.attributes
    assert dynamodb_item_bytes(item.attributes) <= MAX_ITEM_BYTES
    assert item_size(item.attributes) >= dynamodb_item_bytes(item.attributes)


def test_a_6_mib_report_is_trimmed_to_fit_and_its_whole_body_kept_in_the_bucket() -> None:
    notes = "n" * (6 * 1024 * 1024)
    extra = "".join(f"<unknown{i}>{'e' * 1000}</unknown{i}>" for i in range(300))
    item = fit_item(call_item(f"<notes>{notes}</notes>{extra}", recordings=3))

    assert dynamodb_item_bytes(item.attributes) <= DYNAMODB_ITEM_BYTES - 3 * RECORDING_COPY_BYTES
    assert item.attributes["trimmed"] == ["notes"]
    assert notes.startswith(item.attributes["notes"])
    assert len(item.attributes["notes"]) > 50_000
    assert len(item.attributes["extra"]) == 300
    assert notes in (item.body_in_bucket or "")
    assert len(item.attributes["recordings"]) == 3


def test_maps_cut_short_say_so_and_the_keys_are_never_cut() -> None:
    extra = "".join(f"<unknown{i}>{'e' * 2000}</unknown{i}>" for i in range(400))
    item = fit_item(call_item(extra))

    assert item.attributes["trimmed"] == ["extra"]
    assert item.attributes["extra"]["#truncated"].startswith("too large for the item")
    assert 0 < len(item.attributes["extra"]) < 400
    assert (item.attributes["callId"], item.attributes["campaignId"]) == ("1", "2")
    assert dynamodb_item_bytes(item.attributes) <= MAX_ITEM_BYTES


def test_a_report_whose_item_cannot_fit_even_without_its_body_is_refused() -> None:
    with pytest.raises(ReportRejected) as caught:
        fit_item(call_item("<notes>n</notes>", recordings=400))

    assert caught.value.reason is RejectReason.TOO_LARGE


def test_the_room_kept_per_recording_covers_its_largest_copy_details() -> None:
    """What the recordings function adds to an entry (functions/adapters/recording_entries.py),
    at the largest each value can be: the key from the longest ids, a content type of 255
    characters, a 512 MiB size; or a reason of 500 characters."""
    url = "https://www.callfire.com/r/1"
    job = RecordingJob("c" * 512, "call", "k" * 512, 99_999, url)
    copied = {
        "url": url,
        "status": "COPIED",
        "s3Key": recording_key(job, "wav"),
        "contentType": "a" * 255,
        "bytes": DEFAULT_RECORDING_MAX_BYTES,
    }
    failed = {"url": url, "status": "FAILED", "reason": "r" * MAX_REASON_CHARS}
    pending = {"url": url, "status": "PENDING"}

    for details in (copied, failed):
        growth = dynamodb_item_bytes({"e": [details]}) - dynamodb_item_bytes({"e": [pending]})
        assert growth <= RECORDING_COPY_BYTES


def dynamodb_item_bytes(attributes: dict[str, Any]) -> int:
    """DynamoDB's own count, as its documentation gives it, independent of `item_size`: "the sum of
    the lengths of its attribute names and values"; strings are their UTF-8 bytes; a number is
    "(1 byte per two significant digits) + (1 byte)"; a list or map "(3 bytes) + (1 byte per
    element)" plus its elements, map keys counted as names; null and Boolean 1 byte
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)."""

    def value_bytes(value: Any) -> int:
        if isinstance(value, str):
            return len(value.encode("utf-8"))
        if isinstance(value, bool) or value is None:
            return 1
        if isinstance(value, int | Decimal):
            digits = Decimal(value).normalize().as_tuple().digits
            return (len(digits) + 1) // 2 + 1
        if isinstance(value, dict):
            return 3 + sum(len(k.encode()) + value_bytes(v) + 1 for k, v in value.items())
        return 3 + sum(value_bytes(element) + 1 for element in value)

    return sum(len(name.encode("utf-8")) + value_bytes(v) for name, v in attributes.items())
