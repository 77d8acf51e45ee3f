"""From stream records to events: which changes are new facts, what each event carries, its
deterministic id, exact numbers, and the size limit. Every event made here is checked against
its detail type's JSON Schema (docs/events/schemas)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from functions.events.mapping import (
    MAX_EVENT_BYTES,
    BusEvent,
    EventRules,
    entry_size,
    events_for,
)
from functions.events.stream import UnreadableRecord, read_change
from functions.names import SMOKE_CALL_ID_PREFIX, SMOKE_CAMPAIGN_ID, DetailType
from functions.reports.items import Table
from tests.events_out import (
    CALLS_ARN,
    CAMPAIGNS_ARN,
    stream_record,
    validate_detail,
)
from tests.helpers import documented_call_item

RULES = EventRules(
    tables={"Calls": Table.CALLS, "Campaigns": Table.CAMPAIGNS},
    bucket="the-bucket",
    source="callfire.receiver",
)
RECORDING_URL = "https://www.callfire.com/cloud/1/files/recording/"


def stored_call(**changes: Any) -> dict[str, Any]:
    """The documented call as the table holds it (bookkeeping included)."""
    item = {
        **documented_call_item(),
        "raw": "<call-finished>...</call-finished>",
        "extra": {"unknown": "kept"},
        "receivedAt": "2026-11-29T10:00:00.000Z",
        "deliveries": 1,
    }
    item.update(changes)
    return {name: value for name, value in item.items() if value is not None}


def stored_campaign(**changes: Any) -> dict[str, Any]:
    item = {
        "campaignId": "22222",
        "name": "My Campaign Name",
        "status": "finished",
        "cost": Decimal("2.25"),
        "currency": "USD",
        "total": 100,
        "raw": "<campaign-finished/>",
        "receivedAt": "2026-11-29T10:00:00.000Z",
        "deliveries": 1,
    }
    item.update(changes)
    return {name: value for name, value in item.items() if value is not None}


def campaign_record(kind: str, **images: Any) -> dict[str, Any]:
    return stream_record(kind, keys=("campaignId",), table_arn=CAMPAIGNS_ARN, **images)


def events(record: dict[str, Any]) -> list[BusEvent]:
    made = events_for(read_change(record), RULES)
    for event in made:
        validate_detail(event)
        assert entry_size(event, RULES.source) <= MAX_EVENT_BYTES
    return made


def only_detail(record: dict[str, Any], detail_type: str) -> dict[str, Any]:
    (event,) = events(record)
    assert event.detail_type == detail_type
    return validate_detail(event)


def test_a_new_call_is_one_call_finished_with_the_item_less_raw_extra_and_deliveries() -> None:
    item = stored_call()

    (event,) = events(stream_record("INSERT", new=item))
    detail = validate_detail(event)

    assert event.detail_type == DetailType.CALL_FINISHED
    expected = {
        name: value for name, value in item.items() if name not in {"raw", "extra", "deliveries"}
    }
    assert {name: value for name, value in detail.items() if name in expected} == expected
    assert set(detail) - set(expected) == {"version", "eventId", "table"}
    assert detail["version"] == 1
    assert detail["table"] == "calls"
    assert event.resources == (CALLS_ARN,)
    assert event.time == datetime.fromtimestamp(1_796_000_000, UTC)


@pytest.mark.parametrize(
    ("event_type", "detail_type"),
    [
        ("call", DetailType.CALL_FINISHED),
        ("text-sent", DetailType.TEXT_SENT),
        ("text-reply", DetailType.TEXT_RECEIVED),
    ],
)
def test_each_kind_of_call_item_has_its_detail_type(event_type: str, detail_type: str) -> None:
    detail = only_detail(
        stream_record("INSERT", new=stored_call(eventType=event_type, recordings=None)),
        detail_type,
    )

    assert detail["eventType"] == event_type


def test_a_counted_redelivery_is_no_event() -> None:
    before = stored_call()
    after = stored_call(deliveries=2)

    assert events(stream_record("MODIFY", old=before, new=after)) == []


def test_a_removed_item_is_no_event_ttl_or_erasure() -> None:
    removal = stream_record("REMOVE", old=stored_call())
    removal["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    assert events(removal) == []


def test_a_smoke_test_s_report_is_no_event() -> None:
    item = stored_call(callId=f"{SMOKE_CALL_ID_PREFIX}1234", campaignId=SMOKE_CAMPAIGN_ID)

    assert events(stream_record("INSERT", new=item)) == []
    not_smoke = stored_call(callId=f"{SMOKE_CALL_ID_PREFIX}1234")
    assert len(events(stream_record("INSERT", new=not_smoke))) == 1


def test_a_new_version_is_published_again_with_its_version_and_a_new_event_id() -> None:
    first = stored_call()
    second = stored_call(
        disposition="LA", version=2, updatedAt="2026-11-30T08:00:00.000Z", deliveries=3
    )

    (original,) = events(stream_record("INSERT", new=first))
    (replaced,) = events(stream_record("MODIFY", old=first, new=second))

    detail = validate_detail(replaced)
    assert detail["version"] == 2
    assert detail["disposition"] == "LA"
    assert detail["updatedAt"] == "2026-11-30T08:00:00.000Z"
    assert detail["eventId"] != validate_detail(original)["eventId"]


def test_the_same_fact_always_has_the_same_event_id() -> None:
    record = stream_record("INSERT", new=stored_call())
    again = stream_record("INSERT", new=stored_call(), sequence_number="999", created=1.0)

    ids = {validate_detail(event)["eventId"] for event in events(record) + events(again)}

    assert len(ids) == 1
    other_call = stream_record("INSERT", new=stored_call(callId="222222"))
    assert validate_detail(events(other_call)[0])["eventId"] not in ids


def test_a_version_that_does_not_grow_is_no_item_event() -> None:
    before = stored_call(version=3)
    after = stored_call(version=3, notes="changed by hand")

    assert events(stream_record("MODIFY", old=before, new=after)) == []


def test_a_campaign_finished_from_a_legacy_report() -> None:
    detail = only_detail(
        campaign_record("INSERT", new=stored_campaign()), DetailType.CAMPAIGN_FINISHED
    )

    assert detail["campaignId"] == "22222"
    assert detail["table"] == "campaigns"
    assert detail["cost"] == Decimal("2.25")


@pytest.mark.parametrize(
    ("campaign_events", "detail_type"),
    [
        ({"Started": "2026-11-29T10:00:00Z"}, DetailType.CAMPAIGN_STARTED),
        (
            {"Started": "2026-11-29T10:00:00Z", "Stopped": "2026-11-29T11:00:00Z"},
            DetailType.CAMPAIGN_STOPPED,
        ),
        (
            {
                "Started": "2026-11-29T10:00:00Z",
                "Stopped": "2026-11-29T11:00:00Z",
                "Finished": "2026-11-29T11:00:00Z",
            },
            DetailType.CAMPAIGN_FINISHED,
        ),
    ],
    ids=["started", "stopped", "finished at the same time as stopped"],
)
def test_a_v2_campaign_is_named_after_its_newest_event(
    campaign_events: dict[str, str], detail_type: str
) -> None:
    item = stored_campaign(
        events=campaign_events, status="RUNNING", source="v2-webhook", total=None, cost=None
    )

    only_detail(campaign_record("INSERT", new=item), detail_type)


def test_a_v2_campaign_replaced_by_its_next_event_emits_again() -> None:
    started = stored_campaign(events={"Started": "2026-11-29T10:00:00Z"}, source="v2-webhook")
    finished = stored_campaign(
        events={"Started": "2026-11-29T10:00:00Z", "Finished": "2026-11-29T12:00:00Z"},
        source="v2-webhook",
        version=2,
        updatedAt="2026-11-29T12:00:01.000Z",
    )

    detail = only_detail(
        campaign_record("MODIFY", old=started, new=finished), DetailType.CAMPAIGN_FINISHED
    )

    assert detail["version"] == 2


def copied(**entry: Any) -> dict[str, Any]:
    return {
        "url": RECORDING_URL,
        "status": "COPIED",
        "s3Key": "recordings/22222/111111/0.wav",
        "contentType": "audio/x-wav",
        "bytes": 48044,
        **entry,
    }


def test_a_recording_copied_is_one_event_with_where_it_is() -> None:
    before = stored_call()
    after = stored_call(recordings=[copied()])

    detail = only_detail(stream_record("MODIFY", old=before, new=after), "Recording Copied")

    assert {name: value for name, value in detail.items() if name != "eventId"} == {
        "callId": "111111",
        "eventType": "call",
        "campaignId": "22222",
        "index": 0,
        "bucket": "the-bucket",
        "s3Key": "recordings/22222/111111/0.wav",
        "contentType": "audio/x-wav",
        "bytes": 48044,
        "url": RECORDING_URL,
        "table": "calls",
    }


def test_a_recording_failed_is_one_event_with_its_reason() -> None:
    before = stored_call()
    failed = {"url": RECORDING_URL, "status": "FAILED", "reason": "HTTP 404"}
    after = stored_call(recordings=[failed])

    detail = only_detail(stream_record("MODIFY", old=before, new=after), "Recording Failed")

    assert detail["reason"] == "HTTP 404"
    assert detail["index"] == 0
    assert "bucket" not in detail


def test_a_recording_whose_status_does_not_change_is_no_event() -> None:
    failed = {"url": RECORDING_URL, "status": "FAILED", "reason": "HTTP 404"}
    failed_again = {**failed, "reason": "HTTP 410"}

    record = stream_record(
        "MODIFY",
        old=stored_call(recordings=[failed]),
        new=stored_call(recordings=[failed_again]),
    )

    assert events(record) == []


def test_a_failed_recording_copied_later_is_a_recording_copied() -> None:
    failed = {"url": RECORDING_URL, "status": "FAILED", "reason": "HTTP 503"}
    record = stream_record(
        "MODIFY", old=stored_call(recordings=[failed]), new=stored_call(recordings=[copied()])
    )

    (event,) = events(record)

    assert event.detail_type == DetailType.RECORDING_COPIED


def test_a_new_item_and_its_second_recording_copied_are_told_apart() -> None:
    pending = {"url": RECORDING_URL + "2", "status": "PENDING"}
    before = stored_call(recordings=[copied(), pending])
    after = stored_call(recordings=[copied(), copied(url=RECORDING_URL + "2", s3Key="k/1.wav")])

    (event,) = events(stream_record("MODIFY", old=before, new=after))

    assert validate_detail(event)["index"] == 1
    first = events(
        stream_record("MODIFY", old=stored_call(), new=stored_call(recordings=[copied()]))
    )
    assert validate_detail(first[0])["eventId"] != validate_detail(event)["eventId"]


def test_numbers_are_written_exactly_as_stored() -> None:
    precise = Decimal("12345678901234567890.123456789012345678")
    item = stored_call(durationSeconds=Decimal("35.50"), storedData=None, tags=None)
    item["callId"] = "precise"
    record = stream_record("INSERT", new=item)
    record["dynamodb"]["NewImage"]["durationSeconds"] = {"N": str(precise)}

    (event,) = events(record)

    assert f'"durationSeconds":{precise}' in event.detail
    assert json.loads(event.detail, parse_float=Decimal)["durationSeconds"] == precise


def test_other_dynamodb_types_become_plain_json() -> None:
    record = stream_record("INSERT", new=stored_call())
    record["dynamodb"]["NewImage"].update(
        {
            "flags": {"SS": ["b", "a"]},
            "scores": {"NS": ["10", "2"]},
            "blob": {"B": "AAEC"},
            "nothing": {"NULL": True},
            "ok": {"BOOL": True},
            "rawS3Key": {"S": "raw/2026/11/29/x.xml"},
        }
    )

    detail = validate_detail(events(record)[0])

    assert detail["flags"] == ["a", "b"]
    assert detail["scores"] == [2, 10]
    assert detail["blob"] == "AAEC"
    assert detail["nothing"] is None
    assert detail["ok"] is True
    assert "rawS3Key" not in detail


def test_an_event_over_the_limit_leaves_out_its_largest_attributes_and_says_which() -> None:
    item = stored_call(notes="n" * 200_000, extraData="e" * 90_000, agentResponse="a" * 500)

    (event,) = events(stream_record("INSERT", new=item))
    detail = validate_detail(event)

    assert entry_size(event, RULES.source) <= MAX_EVENT_BYTES
    assert detail["truncated"] == ["notes"]
    assert event.left_out == ("notes",)
    assert detail["extraData"] == "e" * 90_000
    (again,) = events(stream_record("INSERT", new=item))
    assert again == event


def test_keys_and_ids_are_never_left_out() -> None:
    huge = {f"var{n}": "v" * 1000 for n in range(180)}
    item = stored_call(storedData=huge, notes="n" * 170_000, agentResponse="a" * 100_000)

    detail = validate_detail(events(stream_record("INSERT", new=item))[0])

    assert detail["truncated"] == ["notes", "storedData"]
    assert detail["agentResponse"] == "a" * 100_000
    assert {"callId", "eventType", "campaignId", "eventId", "table", "version"} <= set(detail)


@pytest.mark.parametrize(
    "broken",
    [
        {"eventName": "INSERT"},
        {"eventName": "INSERT", "eventSourceARN": CALLS_ARN, "dynamodb": {"Keys": {}}},
    ],
    ids=["no dynamodb part", "no sequence number"],
)
def test_a_record_that_is_not_a_stream_record_is_unreadable(broken: dict[str, Any]) -> None:
    with pytest.raises(UnreadableRecord):
        read_change(broken)


def test_a_record_of_another_table_is_unreadable() -> None:
    record = stream_record(
        "INSERT", new=stored_call(), table_arn="arn:aws:dynamodb:us-east-1:1:table/Other"
    )

    with pytest.raises(UnreadableRecord, match="table"):
        events(record)


def test_a_call_item_with_an_unknown_event_type_is_unreadable() -> None:
    with pytest.raises(UnreadableRecord, match="eventType"):
        events(stream_record("INSERT", new=stored_call(eventType="fax")))
