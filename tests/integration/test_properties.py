"""Property-based: for generated reports, parse, map, store and read back give the same values."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.names import CallAttribute, CallsTable, Item, Output, Source
from functions.reports import CallReport, CampaignReport, EventType, read_report
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


clean_text = xml_text.map(str.strip).filter(bool)
"""A value as it is stored: CallFire's text without the white space around it."""
blank = st.sampled_from(["", " ", "\n  ", "\t"])
ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?")

ELEMENTS = {
    CallAttribute.CALL_ID: "callid",
    CallAttribute.CAMPAIGN_ID: "campaignid",
    CallAttribute.PHONE_NUMBER: "phonenumber",
    CallAttribute.DISPOSITION: "disposition",
    CallAttribute.NOTES: "notes",
    CallAttribute.AGENT_RESPONSE: "agentresponse",
    CallAttribute.SMS_SENT: "smssent",
    CallAttribute.SMS_RECEIVED: "smsreceived",
}
"""The element CallFire's document names for each attribute (the input format, not a rule)."""
OPTIONAL = (CallAttribute.DISPOSITION, CallAttribute.NOTES, CallAttribute.AGENT_RESPONSE)


@dataclass(frozen=True)
class GeneratedCall:
    body: bytes
    expected: dict[str, Any]
    """The item's attributes, drawn first; the body is written from them."""
    call_start: datetime


@st.composite
def call_reports(draw: st.DrawFn) -> GeneratedCall:
    kind = draw(st.sampled_from(EventType))
    expected: dict[str, Any] = {
        CallAttribute.CALL_ID: f"{uuid.uuid4().hex[:8]}-{draw(identifiers)}",
        CallAttribute.EVENT_TYPE: kind.value,
        CallAttribute.CAMPAIGN_ID: draw(identifiers),
        CallAttribute.PHONE_NUMBER: draw(phone_numbers),
        CallAttribute.DURATION_SECONDS: Decimal(draw(st.integers(0, 10**9))),
    }
    blanks = {}
    for attribute in OPTIONAL:
        value = draw(st.none() | clean_text)
        if value is None:
            blanks[attribute] = draw(st.none() | blank)
        else:
            expected[attribute] = value
    if kind is EventType.TEXT_SENT:
        expected[CallAttribute.SMS_SENT] = draw(clean_text)
    elif kind is EventType.TEXT_REPLY:
        expected[CallAttribute.SMS_RECEIVED] = draw(clean_text)
    if tags := draw(st.lists(clean_text, max_size=5)):
        expected[CallAttribute.TAGS] = tags
    names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
    if stored := draw(st.dictionaries(names, clean_text, max_size=5)):
        expected[CallAttribute.STORED_DATA] = stored
    call_start = draw(timestamps)
    body = call_body(expected, blanks, call_start, padding=draw(blank))
    return GeneratedCall(body, expected, call_start)


def call_body(
    expected: dict[str, Any], blanks: dict[str, str | None], call_start: datetime, padding: str
) -> bytes:
    """CallFire's XML for `expected`, every value wrapped in `padding`; an absent optional value
    is left out or sent blank."""
    root = ET.Element("call-finished")
    for attribute, element in ELEMENTS.items():
        if attribute in expected:
            ET.SubElement(root, element).text = f"{padding}{expected[attribute]}{padding}"
        elif blanks.get(attribute) is not None:
            ET.SubElement(root, element).text = blanks[attribute]
    ET.SubElement(root, "duration").text = str(expected[CallAttribute.DURATION_SECONDS])
    ET.SubElement(root, "callstart").text = call_start.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    tags = ET.SubElement(root, "tags")
    for tag in expected.get(CallAttribute.TAGS, []):
        ET.SubElement(tags, "tag").text = f"{padding}{tag}{padding}"
    stored = ET.SubElement(root, "stored-data")
    for name, value in expected.get(CallAttribute.STORED_DATA, {}).items():
        ET.SubElement(stored, "var", name=name).text = f"{padding}{value}{padding}"
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@settings(max_examples=300, deadline=None)
@given(call_reports())
def test_generated_call_reports_read_back_exactly(call: GeneratedCall) -> None:
    parsed, _ = read_report(call.body)

    assert isinstance(parsed, CallReport)
    assert parsed.call_id == call.expected[CallAttribute.CALL_ID]
    assert parsed.event_type.value == call.expected[CallAttribute.EVENT_TYPE]
    assert parsed.extra == {}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(call=call_reports())
def test_generated_reports_survive_storage_unchanged(
    call: GeneratedCall, postback: PostbackClient, aws: Any
) -> None:
    answer = postback.post(call.body)

    assert answer.status == 200, answer.body
    key = {
        name: {"S": call.expected[name]} for name in (CallsTable.PARTITION_KEY, CallsTable.SORT_KEY)
    }
    item = aws("dynamodb").get_item(
        TableName=postback.outputs[Output.CALLS_TABLE], Key=key, ConsistentRead=True
    )["Item"]
    stored = {name: _deserializer.deserialize(value) for name, value in item.items()}
    for volatile in (Item.RECEIVED_AT, Item.DELIVERIES, Item.RAW):
        stored.pop(volatile)
    assert stored.pop(Item.SOURCE) == Source.LEGACY_POSTBACK
    call_start = stored.pop(CallAttribute.CALL_START)
    assert ISO_8601.fullmatch(call_start), call_start
    assert datetime.fromisoformat(call_start) == call.call_start
    assert stored == call.expected


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
