"""CallFire's v2 webhook deliveries read into reports and items: every documented field of the
Call, Text and broadcast resources, typed numbers and booleans, epoch milliseconds as ISO 8601 UTC,
each event's exact text, and the JSON attacks a reader must survive."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.adapters.dynamodb import serialize
from functions.names import Item
from functions.reports import CallReport, CampaignReport, RejectReason, ReportRejected
from functions.reports.items import Table, fit_item, sha256, to_item
from functions.reports.values import iso_from_epoch_ms
from functions.reports.webhook_json import (
    MAX_EVENTS,
    MAX_JSON_DEPTH,
    Delivery,
    OtherEvent,
    RefusedEvent,
    decode_json,
    read_delivery,
    read_event,
)
from tests.helpers import EVENTS

V2 = EVENTS / "v2"
RECEIVED_AT = "2026-11-28T05:26:07.123Z"


def delivery_of(name: str) -> Delivery:
    return read_delivery(decode_json((V2 / name).read_bytes()))


def item_of(name: str, index: int = 0) -> dict[str, Any]:
    event = delivery_of(name).events[index]
    assert isinstance(event.content, CallReport | CampaignReport)
    return to_item(event.content, raw=event.raw, received_at=RECEIVED_AT).attributes


def refusal(body: str | bytes) -> ReportRejected:
    with pytest.raises(ReportRejected) as raised:
        read_delivery(decode_json(body))
    return raised.value


def envelope(*events: Any, **fields: Any) -> str:
    return json.dumps({"timestamp": 1469540830377, "webhookId": 1, **fields, "events": events})


def call_event(resource: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "timestamp": 1469540830377,
        "webhookId": 3749003,
        "resourceType": "OutboundCall",
        "eventType": "Finished",
        "resource": resource,
        **fields,
    }


def only_content(body: str) -> Any:
    (event,) = read_delivery(body).events
    return event.content


# CallFire's samples, every field.


def test_the_documented_call_makes_an_item_with_every_field() -> None:
    item = item_of("outbound_call_finished.json")

    raw = item.pop("raw")
    assert item == {
        "callId": "1024990109003",
        "eventType": "call",
        "campaignId": "13194908003",
        "batchId": "11305143003",
        "fromNumber": "12132212384",
        "toNumber": "12132041238",
        "phoneNumber": "12132041238",
        "inbound": False,
        "state": "FINISHED",
        "disposition": "AM",
        "callStart": "2016-07-26T20:33:45.000Z",
        "finishTime": "2016-07-26T20:33:53.000Z",
        "durationSeconds": 6,
        "billedAmount": 1,
        "tags": ["Test Label 1", "Test Label 2"],
        "contact": {
            "id": 537189974003,
            "firstName": "testFirstName",
            "lastName": "testLastName",
            "zipcode": "90025",
            "homePhone": "12132041238",
            "workPhone": "12132041238",
        },
        "records": [
            {
                "id": 571797202003,
                "billedAmount": 1,
                "finishTime": 1469565233000,
                "result": "AM",
                "originateTime": 1469565225000,
                "answerTime": 1469565227000,
                "duration": 6,
            }
        ],
        "extra": {"agentCall": False},
        "receivedAt": RECEIVED_AT,
        "deliveries": 1,
        "source": "v2-webhook",
        "webhookId": "3749003",
        "eventTimestamp": "2016-07-26T13:47:10.377Z",
        "resourceModified": "2016-07-26T20:33:52.000Z",
    }
    sample = (V2 / "outbound_call_finished.json").read_text()
    assert raw.startswith("{")
    assert raw.endswith("}")
    assert raw in sample
    assert json.loads(raw) == json.loads(sample)["events"][0]


def test_numbers_and_booleans_keep_their_types() -> None:
    item = item_of("outbound_call_finished.json")

    assert type(item["durationSeconds"]) is int
    assert type(item["contact"]["id"]) is int
    assert item["inbound"] is False
    assert item["extra"]["agentCall"] is False
    text = item_of("outbound_text_finished.json")
    assert text["billedAmount"] == Decimal("1.0")
    assert text["records"][0]["billedAmount"] == Decimal("1.0")


def test_the_documented_text_is_a_text_sent_with_its_message_and_media() -> None:
    item = item_of("outbound_text_finished.json")

    assert (item["callId"], item["eventType"]) == ("1023905054003", "text-sent")
    assert item["smsSent"] == "Test Message"
    assert "smsReceived" not in item
    assert (item["disposition"], item["phoneNumber"]) == ("RECEIVED", "14246525473")
    assert item["media"] == []
    assert item["callStart"] == "2016-07-26T13:47:10.000Z"
    assert item["resourceModified"] == "2016-07-26T13:47:08.000Z"
    assert item["records"] == [
        {
            "id": 570794145003,
            "billedAmount": Decimal("1.0"),
            "finishTime": 1469540830000,
            "message": "Test Message",
            "textResult": "RECEIVED",
        }
    ]
    assert "batchId" not in item
    assert "durationSeconds" not in item


def test_the_resource_type_decides_the_event_type_whatever_inbound_says() -> None:
    item = item_of("outbound_text_finished_inbound_true.json")

    assert (item["eventType"], item["inbound"], item["phoneNumber"]) == (
        "text-sent",
        True,
        "14246525473",
    )


def test_an_inbound_text_is_a_reply_keyed_by_the_contact_s_number() -> None:
    item = item_of("inbound_text_finished.json")

    assert (item["callId"], item["eventType"]) == ("13405", "text-reply")
    assert (item["smsReceived"], item["phoneNumber"]) == ("a new test message", "12135551100")
    assert item["inbound"] is True
    assert "smsSent" not in item


def test_an_inbound_call_keyed_by_the_caller_with_the_older_result_name() -> None:
    item = item_of("inbound_call_finished_older_call_result.json")

    assert (item["eventType"], item["phoneNumber"], item["disposition"]) == (
        "call",
        "12135551101",
        "LA",
    )
    assert item["billedAmount"] == Decimal("1.1667")
    assert item["callStart"] == "2015-09-27T06:05:11.000Z"
    assert item["records"][0]["callResult"] == "LA"


@pytest.mark.parametrize("name", ["result", "callResult", "textResult"])
def test_without_a_final_result_the_last_record_s_result_is_the_disposition(name: str) -> None:
    resource = {"id": 1, "records": [{"id": 2, name: "BUSY"}, {"id": 3, name: "LA"}]}

    report = only_content(envelope(call_event(resource)))

    assert report.disposition == "LA"


def test_recordings_become_entries_with_their_id_and_state() -> None:
    item = item_of("outbound_call_finished_with_recordings.json")

    assert item["recordings"] == [
        {
            "url": "https://api.callfire.com/calls/recordings/2033",
            "status": "PENDING",
            "recordingId": "2033",
            "recordingState": "READY",
        },
        {
            "url": "https://api.callfire.com/v2/calls/recordings/2034.mp3",
            "status": "PENDING",
            "recordingId": "2034",
            "recordingState": "RECORDING",
        },
        {
            "url": "https://api.callfire.com/calls/recordings/2033",
            "status": "FAILED",
            "recordingId": "2035",
            "recordingState": "ERROR",
            "reason": "CallFire reported the recording's state as ERROR",
        },
    ]
    assert item["storedData"] == {"willvote": "yes", "concern": "economy"}
    assert item["extra"]["notes"] == [{"created": 1469565231000, "text": "a note on the call"}]
    assert item["records"][0]["questionResponses"] == [{"question": "Vote?", "response": "yes"}]


@pytest.mark.parametrize(
    ("name", "campaign_type", "campaign_id"),
    [
        ("call_broadcast_finished.json", "CallBroadcast", "13175997003"),
        ("text_broadcast_finished.json", "TextBroadcast", "13163667003"),
    ],
)
def test_a_broadcast_event_makes_a_campaign_item(
    name: str, campaign_type: str, campaign_id: str
) -> None:
    event = delivery_of(name).events[0]
    assert isinstance(event.content, CampaignReport)
    item = to_item(event.content, raw=event.raw, received_at=RECEIVED_AT)

    assert item.table is Table.CAMPAIGNS
    attributes = item.attributes
    assert attributes["campaignId"] == campaign_id
    assert attributes["campaignType"] == campaign_type
    assert attributes["status"] == "STOPPED"
    assert attributes["tags"] == ["Label1"]
    assert set(attributes["events"]) == {"Finished"}
    assert attributes["events"]["Finished"] == attributes["eventTimestamp"]
    assert attributes["resourceModified"] < attributes["eventTimestamp"]
    assert attributes["extra"]["maxActive"] == 100
    assert attributes["extra"]["resumeNextDay"] is False
    assert attributes["extra"]["localTimeRestriction"]["enabled"] is True
    assert attributes["source"] == "v2-webhook"


def test_the_call_broadcast_s_name_and_sender() -> None:
    item = item_of("call_broadcast_finished.json")

    assert (item["name"], item["fromNumber"]) == ("Test Webhook", "12132212384")
    assert item["extra"]["sounds"]["liveSoundId"] == 3363224003
    assert item["extra"]["answeringMachineConfig"] == "LIVE_WITH_AMD"


@pytest.mark.parametrize(
    ("name", "resource_type", "event_type"),
    [
        ("contact_list_validation_finished.json", "ContactList", "ValidationFinished"),
        ("outbound_text_delivery_report_received.json", "OutboundTextDeliveryReport", "Received"),
    ],
)
def test_other_resource_types_are_other_events(
    name: str, resource_type: str, event_type: str
) -> None:
    (event,) = delivery_of(name).events

    assert isinstance(event.content, OtherEvent)
    assert (event.content.resource_type, event.content.event_type) == (resource_type, event_type)
    assert event.content.timestamp_ms is not None


def test_an_id_above_2_to_the_53_is_kept_exactly() -> None:
    (event,) = delivery_of("outbound_text_delivery_report_received.json").events

    assert "7420017300281076000" in event.raw
    big = 2**63 + 5
    report = only_content(envelope(call_event({"id": big, "campaignId": str(big + 1)})))
    assert (report.call_id, report.campaign_id) == (str(big), str(big + 1))
    assert float(big) != big


def test_the_envelope_and_events_keep_their_own_metadata() -> None:
    delivery = delivery_of("outbound_call_finished.json")

    assert (delivery.webhook_id, delivery.webhook_name, delivery.resource_type) == (
        "3749003",
        "Test Webhook",
        "OutboundCall",
    )
    assert delivery.timestamp_ms == 1469540830377


# Times.


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        (1469540830377, "2016-07-26T13:47:10.377Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (253402300799999, "9999-12-31T23:59:59.999Z"),
        (253402300800000, None),
        (1469540830377.5, None),
        (Decimal("1469540830377"), None),
        ("1469540830377", None),
        (True, None),
        (None, None),
    ],
)
def test_epoch_milliseconds_become_iso_8601_utc(value: Any, iso: str | None) -> None:
    assert iso_from_epoch_ms(value) == iso


def test_a_time_that_does_not_convert_is_kept_in_extra() -> None:
    report = only_content(envelope(call_event({"id": 1, "created": "yesterday", "modified": 1.5})))

    assert report.call_start is None
    assert report.origin.resource_modified is None
    assert report.extra == {"created": "yesterday", "modified": Decimal("1.5")}


# Several events, exact text, names in any case.


def test_each_event_keeps_its_exact_text_with_its_own_spacing() -> None:
    first = '{ "resourceType" : "OutboundCall" ,"eventType":"Finished","resource":{"id": 1 } }'
    second = '{"eventType":"Finished",\n\t"resource":{"id":2,"note":"a \\"quoted\\" ]}"}}'
    body = f'{{"webhookId": 7, "resourceType": "OutboundText", "events" : [ {first} ,\n{second}]}}'

    delivery = read_delivery(body)

    assert [event.raw for event in delivery.events] == [first, second]
    assert [event.index for event in delivery.events] == [0, 1]
    kinds = [event.content.kind for event in delivery.events]
    assert kinds == ["call", "text-sent"]


def test_events_take_what_they_leave_out_from_their_envelope() -> None:
    body = envelope({"eventType": "finished", "resource": {"id": 9}}, resourceType="InboundText")

    report = only_content(body)

    assert report.kind == "text-reply"
    assert report.origin.webhook_id == "1"
    assert report.origin.event_timestamp == "2016-07-26T13:47:10.377Z"
    assert report.origin.event_type == "Finished"


@pytest.mark.parametrize("event_type", ["Finished", "finished", "FINISHED"])
def test_event_names_are_accepted_in_any_case(event_type: str) -> None:
    report = only_content(envelope(call_event({"id": 1}, eventType=event_type)))

    assert isinstance(report, CallReport)


def test_a_call_event_other_than_finished_is_an_other_event() -> None:
    content = only_content(envelope(call_event({"id": 1}, eventType="Started")))

    assert isinstance(content, OtherEvent)


def test_low_balance_is_an_other_event() -> None:
    content = only_content(
        envelope({"resourceType": "LowBalance", "eventType": "Finished", "resource": {}})
    )

    assert isinstance(content, OtherEvent)
    assert content.resource_type == "LowBalance"


def test_a_campaign_event_without_any_timestamp_is_refused() -> None:
    body = json.dumps(
        {
            "events": [
                {"resourceType": "CallBroadcast", "eventType": "Started", "resource": {"id": 1}}
            ]
        }
    )

    content = only_content(body)

    assert isinstance(content, RefusedEvent)
    assert "timestamp" in content.detail


def test_an_event_read_again_from_its_raw_is_the_same_report() -> None:
    (event,) = delivery_of("outbound_call_finished.json").events

    again = read_event(event.raw)

    assert (
        to_item(again, raw=event.raw, received_at="t").attributes
        == to_item(event.content, raw=event.raw, received_at="t").attributes
    )


# Wrong types.


@pytest.mark.parametrize(
    ("resource", "detail"),
    [
        ({}, "has no id"),
        ({"id": "abc"}, "not a whole number"),
        ({"id": 1.5}, "not a whole number"),
        ({"id": True}, "not a whole number"),
        ({"id": -3}, "not a whole number"),
        ({"id": "9" * 600}, "longer than 512"),
    ],
)
def test_a_resource_without_a_usable_id_is_refused(resource: dict[str, Any], detail: str) -> None:
    content = only_content(envelope(call_event(resource)))

    assert isinstance(content, RefusedEvent)
    assert content.reason is RejectReason.UNKNOWN_REPORT
    assert detail in content.detail


def test_an_id_of_digits_in_a_string_is_an_id() -> None:
    report = only_content(envelope(call_event({"id": "0012"})))

    assert report.call_id == "0012"


@pytest.mark.parametrize("event", [1, "x", None, [], True])
def test_an_event_that_is_not_an_object_is_refused(event: Any) -> None:
    content = only_content(envelope(event))

    assert isinstance(content, RefusedEvent)


@pytest.mark.parametrize("resource", [None, [], "r", 3])
def test_an_event_without_a_resource_object_is_refused(resource: Any) -> None:
    content = only_content(envelope(call_event(resource)))

    assert isinstance(content, RefusedEvent)
    assert "resource" in content.detail


def test_fields_of_the_wrong_type_go_to_extra_and_the_rest_is_mapped() -> None:
    resource = {
        "id": 5,
        "fromNumber": 12132212384,
        "toNumber": "12132041238",
        "inbound": "false",
        "state": ["FINISHED"],
        "labels": ["a", 1],
        "attributes": {"k": 1},
        "contact": "someone",
        "records": {"id": 1},
        "finalCallResult": 7,
        "campaignId": 2.5,
    }

    report = only_content(envelope(call_event(resource)))
    item = to_item(report, raw="{}", received_at="t").attributes

    assert (item["callId"], item["toNumber"], item["phoneNumber"]) == (
        "5",
        "12132041238",
        "12132041238",
    )
    for name in ("fromNumber", "inbound", "state", "tags", "storedData", "contact", "records"):
        assert name not in item
    assert item["extra"] == {
        "fromNumber": 12132212384,
        "inbound": "false",
        "state": ["FINISHED"],
        "labels": ["a", 1],
        "attributes": {"k": 1},
        "contact": "someone",
        "records": {"id": 1},
        "finalCallResult": 7,
        "campaignId": Decimal("2.5"),
    }


# JSON attacks: refused whole (400/413/422), or read safely.


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"{",
        b'{"events": [}',
        b'{"events": []} trailing',
        b'{"events": [{"a": NaN}]}',
        b'{"events": [Infinity]}',
        b"{'events': []}",
        b'{"events": [1,]}',
        b"<call-finished/>",
    ],
)
def test_bodies_that_are_not_json_are_refused(body: bytes) -> None:
    assert refusal(body).reason is RejectReason.NOT_WELL_FORMED


@pytest.mark.parametrize(
    "body",
    [
        '{"events": [], "events": []}',
        '{"webhookId": 1, "webhookId": 2, "events": [{"eventType": "x"}]}',
        '{"events": [{"resource": {"id": 1, "id": 2}}]}',
        '{"events": [{"resource": {"contact": {"a": 1, "b": 2, "a": 3}}}]}',
    ],
)
def test_duplicate_names_anywhere_are_refused(body: str) -> None:
    refused = refusal(body)

    assert refused.reason is RejectReason.NOT_WELL_FORMED
    assert "appears twice" in refused.detail


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('{"webhookId": 1}', "no events array"),
        ('{"events": {"0": {}}}', "not an array"),
        ('{"events": "all"}', "not an array"),
        ("[1, 2]", "not a JSON object"),
        ('"events"', "not a JSON object"),
        ("null", "not a JSON object"),
    ],
)
def test_json_without_an_events_array_is_refused(body: str, detail: str) -> None:
    refused = refusal(body)

    assert refused.reason is RejectReason.NO_EVENTS
    assert detail in refused.detail


def test_a_delivery_without_events_is_refused_as_no_known_report() -> None:
    assert refusal('{"events": []}').reason is RejectReason.UNKNOWN_REPORT


def test_more_events_than_the_limit_are_refused_as_too_large() -> None:
    body = '{"events": [' + ",".join(["{}"] * 10_000) + "]}"

    refused = refusal(body)

    assert refused.reason is RejectReason.TOO_LARGE
    assert "10000 events" in refused.detail


def test_the_event_limit_itself_is_read() -> None:
    body = '{"events": [' + ",".join(["{}"] * MAX_EVENTS) + "]}"

    assert len(read_delivery(body).events) == MAX_EVENTS


@pytest.mark.parametrize("opening", ["[", '{"a":'])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 10_000, 100_000])
def test_deep_nesting_is_refused_before_it_is_parsed(opening: str, depth: int) -> None:
    closing = "]" if opening == "[" else "}"
    body = '{"events": [' + opening * depth + "1" + closing * depth + "]}"

    refused = refusal(body)

    assert refused.reason is RejectReason.NOT_WELL_FORMED
    assert "deeper than" in refused.detail


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    body = envelope(call_event({"id": 1, "note": "[" * 5000 + "{" * 5000}))

    report = only_content(body)

    assert report.extra["note"].startswith("[[[")


def test_nesting_within_the_limit_is_read_and_truncated_in_the_item() -> None:
    deep: Any = "bottom"
    for _ in range(40):
        deep = {"down": deep}
    report = only_content(envelope(call_event({"id": 1, "deep": deep})))

    value = report.extra["deep"]
    for _ in range(9):
        value = value["down"]
    assert value == {"#truncated": "deeper than 10 levels; see raw"}


@pytest.mark.parametrize(
    ("number", "kept"),
    [
        ("1" + "0" * 5000, "1" + "0" * 5000),
        ("1e999", "1E+999"),
        ("-1e-500", "-1E-500"),
        ("123456789012345678901234567890123456789", "123456789012345678901234567890123456789"),
        ("0.1", Decimal("0.1")),
        ("12345678901234567890123456789012345678", 12345678901234567890123456789012345678),
    ],
)
def test_numbers_dynamodb_cannot_hold_are_kept_as_their_text(number: str, kept: Any) -> None:
    body = '{"events": [{"resourceType": "OutboundCall", "eventType": "Finished", '
    body += f'"resource": {{"id": 1, "huge": {number}}}}}]}}'

    report = only_content(body)

    assert report.extra["huge"] == kept
    assert type(report.extra["huge"]) is type(kept)


def test_a_huge_billed_amount_is_not_mapped() -> None:
    body = envelope(call_event({"id": 1})).replace(
        '{"id": 1}', '{"id": 1, "records": [{"billedAmount": 9e200}]}'
    )

    report = only_content(body)

    assert report.billed_amount is None
    assert report.records == ({"billedAmount": "9E+200"},)


@pytest.mark.parametrize(
    "body",
    [
        b'{"events": [{"resource": {"id": 1, "name": "\xff\xfe"}}]}',
        "{}".encode("utf-16"),
        b'{"events": ["caf\xe9"]}',
    ],
)
def test_bytes_that_are_not_utf_8_are_refused(body: bytes) -> None:
    refused = refusal(body)

    assert refused.reason is RejectReason.NOT_WELL_FORMED
    assert "UTF-8" in refused.detail


def test_a_utf_8_byte_order_mark_is_allowed() -> None:
    body = b"\xef\xbb\xbf" + (V2 / "outbound_call_finished.json").read_bytes()

    assert len(read_delivery(decode_json(body)).events) == 1


def test_escaped_and_unicode_text_is_read() -> None:
    body = envelope(call_event({"id": 1, "attributes": {"name": "Zo\u00eb \u2603 \ud83d\ude00"}}))

    report = only_content(body)

    assert report.stored_data == {"name": "Zoë ☃ 😀"}


def test_an_empty_name_in_a_map_is_renamed_for_dynamodb() -> None:
    report = only_content(envelope(call_event({"id": 1, "contact": {"": 1, "id": 2}})))

    assert report.contact == {"#empty": 1, "id": 2}


def test_a_large_event_keeps_its_body_in_the_bucket_as_json() -> None:
    body = envelope(call_event({"id": 1, "blob": "x" * 200_000}))
    (event,) = read_delivery(body).events

    item = fit_item(to_item(event.content, raw=event.raw, received_at="t"))

    assert item.body_in_bucket == event.raw
    assert item.attributes[Item.RAW_S3_KEY] == f"raw/{sha256(event.raw)}.json"
    assert Item.RAW not in item.attributes
    assert item.body_sha256 == sha256(event.raw)


# Whatever JSON arrives inside an event, reading either refuses the body with a reason or makes
# items DynamoDB can take.

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=40,
)
resources = st.dictionaries(
    st.sampled_from(
        [
            "id", "fromNumber", "toNumber", "inbound", "state", "campaignId", "labels",
            "attributes", "records", "contact", "created", "modified", "media", "message",
            "finalCallResult", "lastModified", "name", "status", "other",
        ]
    ),
    json_values,
)  # fmt: skip


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(entry) for entry in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(entry) for entry in value), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(
    resource=resources,
    resource_type=st.sampled_from(["OutboundCall", "InboundText", "CallBroadcast", "ContactList"]),
    event_type=st.sampled_from(["Finished", "Started", "x"]),
)
def test_any_resource_is_read_into_storable_items_or_refused(
    resource: dict[str, Any], resource_type: str, event_type: str
) -> None:
    event = {"timestamp": 1, "resourceType": resource_type, "eventType": event_type}
    body = json.dumps({"events": [{**event, "resource": resource}]}, default=str)

    try:
        delivery = read_delivery(body)
    except ReportRejected:
        return  # a whole-body refusal, with its reason: the handler archives the body
    (read,) = delivery.events
    if isinstance(read.content, CallReport | CampaignReport):
        item = to_item(read.content, raw=read.raw, received_at="t")
        serialize(item.attributes)
        assert depth_of(item.attributes) <= 32
        assert all(name for name in item.attributes)
