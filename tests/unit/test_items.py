"""Reports as the DynamoDB items of docs/contract.md."""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions.names import CallsTable
from functions.reports import CallReport, EventType, RejectReason, ReportRejected, read_report
from functions.reports.items import (
    ALWAYS_FITS_RAW_BYTES,
    MAX_ITEM_BYTES,
    Table,
    check_item_size,
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
    }


def test_item_size_counts_names_and_values() -> None:
    assert item_size("abc") == 3
    assert item_size("é") == 2
    assert item_size({"ab": "cd"}) == 3 + 2 + 2 + 1
    assert item_size([1, 2]) == 3 + 22 + 22


@pytest.mark.parametrize(
    "inner",
    [
        "<x>" * 10 + "<a/>" * 4000 + "</x>" * 10,
        "<x>" * 10 + "<a><b/></a>" * 1400 + "</x>" * 10,
        "<a/>" * 4000,
        "".join(f'<v{i} a="1" b="2"/>' for i in range(800)),
        "<stored-data>" + '<var name="n"/>' * 1000 + "</stored-data>",
    ],
    ids=[
        "truncated-siblings",
        "truncated-parents",
        "empty-unknowns",
        "attributes",
        "repeated-vars",
    ],
)
def test_small_bodies_always_fit_even_at_their_worst(inner: str) -> None:
    body = f"<call-finished><callid>1</callid>{inner}</call-finished>"
    assert len(body.encode()) <= ALWAYS_FITS_RAW_BYTES
    report, text = read_report(body)

    size = item_size(to_item(report, raw=text, received_at=RECEIVED_AT).attributes)

    assert size <= 16 * len(body.encode()) + 2048
    assert size <= MAX_ITEM_BYTES


def test_items_over_dynamodbs_limit_are_refused_as_too_large() -> None:
    notes = "n" * (MAX_ITEM_BYTES // 2)
    body = f"<call-finished><callid>1</callid><notes>{notes}</notes></call-finished>"
    report, text = read_report(body)

    with pytest.raises(ReportRejected) as caught:
        check_item_size(to_item(report, raw=text, received_at="t"))

    assert caught.value.reason is RejectReason.TOO_LARGE
    half, _ = read_report(body.replace(notes, notes[: len(notes) // 2]))
    check_item_size(to_item(half, raw=text[: len(text) // 2], received_at="t"))
