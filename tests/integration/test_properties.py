"""Property-based: for generated reports, parse, map, store and read back give the same values."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.reports import CallReport, CampaignReport, read_report
from tests.integration.conftest import PostbackClient

_deserializer = TypeDeserializer()

xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=80,
)
"""Any text XML 1.0 can carry in an element (control characters and \\r aside)."""
identifiers = st.text(alphabet="0123456789ABCDEFabcdef-_", min_size=1, max_size=24)
phone_numbers = st.from_regex(r"\+?0?[0-9]{6,14}", fullmatch=True)
timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)
)


@st.composite
def call_reports(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "callid": draw(identifiers),
        "campaignid": draw(identifiers),
        "phonenumber": draw(phone_numbers),
        "disposition": draw(xml_text),
        "notes": draw(xml_text),
        "agentresponse": draw(xml_text),
        "duration": draw(st.integers(min_value=0, max_value=10**9)),
        "callstart": draw(timestamps),
        "tags": draw(st.lists(xml_text, max_size=5)),
        "stored": draw(
            st.dictionaries(
                st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True), xml_text, max_size=5
            )
        ),
        "kind": draw(st.sampled_from(["call", "text-sent", "text-reply"])),
        "sms": draw(xml_text.filter(lambda text: text.strip() != "")),
    }


def call_body(report: dict[str, Any]) -> bytes:
    root = ET.Element("call-finished")
    for name in ("callid", "campaignid", "phonenumber", "disposition", "notes", "agentresponse"):
        ET.SubElement(root, name).text = report[name]
    ET.SubElement(root, "duration").text = str(report["duration"])
    ET.SubElement(root, "callstart").text = report["callstart"].strftime("%Y-%m-%d %H:%M:%S.%f")[
        :-3
    ]
    if report["kind"] == "text-sent":
        ET.SubElement(root, "smssent").text = report["sms"]
    elif report["kind"] == "text-reply":
        ET.SubElement(root, "smsreceived").text = report["sms"]
    tags = ET.SubElement(root, "tags")
    for tag in report["tags"]:
        ET.SubElement(tags, "tag").text = tag
    stored = ET.SubElement(root, "stored-data")
    for name, value in report["stored"].items():
        ET.SubElement(stored, "var", name=name).text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def expected_attributes(report: dict[str, Any]) -> dict[str, Any]:
    def present(value: str) -> str | None:
        return value.strip() or None

    start = report["callstart"]
    iso = start.strftime("%Y-%m-%dT%H:%M:%S")
    if start.microsecond:
        iso += "." + f"{start.microsecond // 1000:03d}".rstrip("0")
    attributes = {
        "callId": report["callid"],
        "eventType": report["kind"],
        "campaignId": report["campaignid"],
        "phoneNumber": report["phonenumber"],
        "disposition": present(report["disposition"]),
        "notes": present(report["notes"]),
        "agentResponse": present(report["agentresponse"]),
        "durationSeconds": Decimal(report["duration"]),
        "callStart": iso,
        "tags": [tag.strip() for tag in report["tags"] if tag.strip()] or None,
        "storedData": {name: value.strip() for name, value in report["stored"].items()} or None,
        "smsSent": report["sms"].strip() if report["kind"] == "text-sent" else None,
        "smsReceived": report["sms"].strip() if report["kind"] == "text-reply" else None,
    }
    return {name: value for name, value in attributes.items() if value is not None}


@settings(max_examples=300, deadline=None)
@given(call_reports())
def test_generated_call_reports_read_back_exactly(report: dict[str, Any]) -> None:
    parsed, _ = read_report(call_body(report))

    assert isinstance(parsed, CallReport)
    assert parsed.call_id == report["callid"]
    assert parsed.event_type.value == report["kind"]
    assert parsed.extra == {}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(report=call_reports())
def test_generated_reports_survive_storage_unchanged(
    report: dict[str, Any], postback: PostbackClient, aws: Any
) -> None:
    report = {**report, "callid": f"{uuid.uuid4().hex[:8]}-{report['callid']}"}
    body = call_body(report)

    answer = postback.post(body)

    assert answer.status == 200, answer.body
    item = aws("dynamodb").get_item(
        TableName=postback.outputs["CallsTableName"],
        Key={"callId": {"S": report["callid"]}, "eventType": {"S": report["kind"]}},
        ConsistentRead=True,
    )["Item"]
    stored = {name: _deserializer.deserialize(value) for name, value in item.items()}
    for volatile in ("receivedAt", "deliveries", "raw"):
        stored.pop(volatile)
    assert stored == expected_attributes(report)


@settings(max_examples=200, deadline=None)
@given(
    campaign_id=identifiers,
    stats=st.dictionaries(
        st.sampled_from(
            [
                "total",
                "dialed",
                "live",
                "machine",
                "noanswer",
                "dnc",
                "busy",
                "transfer",
                "error",
                "misc",
            ]
        ),
        st.integers(min_value=0, max_value=10**12),
    ),
    cents=st.integers(min_value=0, max_value=10**9),
)
def test_generated_campaign_reports_keep_their_numbers(
    campaign_id: str, stats: dict[str, int], cents: int
) -> None:
    root = ET.Element("campaign-finished")
    campaign = ET.SubElement(root, "campaign")
    ET.SubElement(campaign, "id").text = campaign_id
    ET.SubElement(campaign, "cost").text = f"${cents // 100}.{cents % 100:02d}"
    statistics = ET.SubElement(campaign, "campaign-stats")
    for name, value in stats.items():
        ET.SubElement(statistics, name).text = str(value)

    parsed, _ = read_report(ET.tostring(root))

    assert isinstance(parsed, CampaignReport)
    assert parsed.campaign_id == campaign_id
    assert parsed.cost == Decimal(cents) / 100
    assert parsed.currency == "USD"
    assert parsed.stats == {
        ("noAnswer" if name == "noanswer" else name): value for name, value in stats.items()
    }
