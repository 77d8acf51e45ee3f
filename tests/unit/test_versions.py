"""What a report does to the item that holds its key: newer v2 versions replace, older ones
conflict, campaign events and a legacy campaign-finished join one item in any order."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.postback.body import read_postback
from functions.postback.delivery import read_webhook
from functions.reports.items import ReportItem, fit_item, to_item
from functions.reports.versions import Merge, MergeDecision, merge
from tests.helpers import EVENTS, event_body

V2 = EVENTS / "v2"
ARRIVED = "2026-11-28T05:26:07.123Z"
LATER = "2026-11-29T08:00:00.000Z"


def v2_item(event: dict[str, Any], received_at: str = ARRIVED) -> ReportItem:
    body = json.dumps({"events": [event]})
    (read,) = read_webhook(body, None, 10**6).events
    return to_item(read.content, raw=read.raw, received_at=received_at)


def sample(name: str, **resource: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((V2 / name).read_text())["events"][0]
    event["resource"] = {**event["resource"], **resource}
    return event


def stored(item: ReportItem, **changes: Any) -> dict[str, Any]:
    """The item as the table holds it after some life: delivered twice, one attribute the
    mapping does not make."""
    return {**item.attributes, "deliveries": 2, "expiresAt": 1900000000, **changes}


def replaced(decision: MergeDecision) -> dict[str, Any]:
    assert decision.outcome is Merge.REPLACE
    assert decision.attributes is not None
    return decision.attributes


CALL = sample("outbound_call_finished.json")
MODIFIED = 1469565232000


def call_version(modified: int, received_at: str = LATER, **resource: Any) -> ReportItem:
    return v2_item(
        {**CALL, "resource": {**CALL["resource"], "modified": modified, **resource}}, received_at
    )


# Calls and texts.


def test_the_same_resource_from_another_sending_is_a_duplicate() -> None:
    first = v2_item(CALL)
    resent = v2_item({**CALL, "timestamp": CALL["timestamp"] + 60_000, "webhookId": 77})

    assert first.raw != resent.raw
    assert merge(stored(first), resent).outcome is Merge.DUPLICATE


def test_a_newer_version_replaces_the_mapped_attributes_and_raw() -> None:
    first = v2_item(CALL)
    newer = call_version(MODIFIED + 1000, finalCallResult="LA", labels=["after"])

    attributes = replaced(merge(stored(first), newer))

    assert (attributes["disposition"], attributes["tags"]) == ("LA", ["after"])
    assert attributes["raw"] == newer.raw
    assert attributes["resourceModified"] == "2016-07-26T20:33:53.000Z"
    assert (attributes["receivedAt"], attributes["deliveries"]) == (ARRIVED, 2)
    assert (attributes["updatedAt"], attributes["version"]) == (LATER, 2)
    assert attributes["expiresAt"] == 1900000000


def test_an_attribute_the_newer_version_leaves_out_is_removed() -> None:
    first = v2_item(CALL)
    newer = call_version(MODIFIED + 1, records=[], labels=[])

    attributes = replaced(merge(stored(first), newer))

    for gone in ("durationSeconds", "records", "tags", "finishTime", "billedAmount"):
        assert gone not in attributes


def test_versions_count_up_from_what_is_stored() -> None:
    first = v2_item(CALL)

    attributes = replaced(merge(stored(first, version=3), call_version(MODIFIED + 1)))

    assert attributes["version"] == 4


@pytest.mark.parametrize("modified", [MODIFIED, MODIFIED - 1])
def test_an_older_or_equal_version_with_other_content_is_a_conflict(modified: int) -> None:
    first = v2_item(CALL)

    assert merge(stored(first), call_version(modified, state="DNC")).outcome is Merge.CONFLICT


def test_a_version_without_modified_never_replaces() -> None:
    first = v2_item(CALL)
    undated = {**CALL, "resource": {k: v for k, v in CALL["resource"].items() if k != "modified"}}

    assert (
        merge(
            stored(first), v2_item({**undated, "resource": {**undated["resource"], "state": "X"}})
        ).outcome
        is Merge.CONFLICT
    )


def test_a_legacy_item_and_a_v2_item_never_replace_each_other() -> None:
    _, legacy = read_postback(event_body("call_finished.xml"), None, datetime.now(UTC), 10**6)
    v2 = v2_item(sample("outbound_call_finished.json", id=111111))

    assert merge(stored(legacy), v2).outcome is Merge.CONFLICT
    assert merge(stored(v2), legacy).outcome is Merge.CONFLICT


def test_recordings_keep_what_happened_to_them_when_they_are_the_same() -> None:
    event = sample("outbound_call_finished_with_recordings.json")
    first = v2_item(event)
    entries = [dict(entry) for entry in first.attributes["recordings"]]
    entries[0].update(status="COPIED", s3Key="recordings/x/0.mp3")
    records = event["resource"]["records"]
    records[0]["recordings"][1]["id"] = 9999
    newer = v2_item({**event, "resource": {**event["resource"], "modified": MODIFIED + 1}})

    attributes = replaced(merge(stored(first, recordings=entries), newer))

    assert attributes["recordings"][0]["status"] == "COPIED"
    assert attributes["recordings"][1] == {
        "url": "https://api.callfire.com/v2/calls/recordings/9999.mp3",
        "status": "PENDING",
        "recordingId": "9999",
        "recordingState": "RECORDING",
    }
    assert attributes["recordings"][2]["status"] == "FAILED"


# Campaigns.

BROADCAST = sample("call_broadcast_finished.json")
FINISHED_AT = BROADCAST["timestamp"]


def broadcast(event_type: str, at: int, **resource: Any) -> ReportItem:
    modified = resource.pop("lastModified", at - 1000)
    return v2_item(
        {
            **BROADCAST,
            "eventType": event_type,
            "timestamp": at,
            "resource": {**BROADCAST["resource"], "lastModified": modified, **resource},
        }
    )


def legacy_campaign(campaign_id: str = "13175997003", **replacements: bytes) -> ReportItem:
    body = event_body("campaign_finished.xml").replace(b"22222", campaign_id.encode())
    for old, new in replacements.items():
        body = body.replace(old.encode(), new)
    _, item = read_postback(body, None, datetime(2026, 11, 28, tzinfo=UTC), 10**6)
    return item


def test_campaign_events_gather_in_one_item_and_the_newest_sets_the_status() -> None:
    started = broadcast("Started", FINISHED_AT - 3_600_000, status="RUNNING")
    finished = broadcast("Finished", FINISHED_AT, status="FINISHED")

    attributes = replaced(merge(stored(started), finished))

    assert attributes["events"] == {
        "Started": "2016-07-26T12:02:51.888Z",
        "Finished": "2016-07-26T13:02:51.888Z",
    }
    assert (attributes["status"], attributes["raw"]) == ("FINISHED", finished.raw)
    assert (attributes["version"], attributes["deliveries"]) == (2, 2)


def test_an_earlier_event_arriving_late_adds_its_time_and_leaves_the_status() -> None:
    started = broadcast("Started", FINISHED_AT - 3_600_000, status="RUNNING")
    finished = broadcast("Finished", FINISHED_AT, status="FINISHED")

    attributes = replaced(merge(stored(finished), started))

    assert set(attributes["events"]) == {"Started", "Finished"}
    assert (attributes["status"], attributes["raw"]) == ("FINISHED", finished.raw)


def test_the_same_campaign_event_again_is_a_duplicate() -> None:
    started = broadcast("Started", FINISHED_AT - 3_600_000)
    finished = broadcast("Finished", FINISHED_AT)
    merged = replaced(merge(stored(started), finished))

    assert merge(merged, started).outcome is Merge.DUPLICATE
    assert merge(merged, finished).outcome is Merge.DUPLICATE


def test_an_older_event_of_a_type_already_recorded_is_a_conflict() -> None:
    started = broadcast("Started", FINISHED_AT)
    earlier = broadcast("Started", FINISHED_AT - 1)

    assert merge(stored(started), earlier).outcome is Merge.CONFLICT


def test_a_later_event_of_the_same_type_moves_its_time_forward() -> None:
    started = broadcast("Started", FINISHED_AT - 10)
    restarted = broadcast("Started", FINISHED_AT)

    attributes = replaced(merge(stored(started), restarted))

    assert attributes["events"] == {"Started": "2016-07-26T13:02:51.888Z"}


def test_v2_events_join_a_legacy_campaign_and_keep_its_statistics() -> None:
    legacy = legacy_campaign()
    finished = broadcast("Finished", FINISHED_AT)

    attributes = replaced(merge(stored(legacy), finished))

    assert attributes["postbackRaw"] == legacy.raw
    assert attributes["raw"] == finished.raw
    assert (attributes["cost"], attributes["currency"], attributes["noAnswer"]) == (
        legacy.attributes["cost"],
        "USD",
        12,
    )
    assert (attributes["source"], attributes["status"], attributes["name"]) == (
        "v2-webhook",
        "STOPPED",
        "Test Webhook",
    )
    assert attributes["events"] == {"Finished": "2016-07-26T13:02:51.888Z"}


def test_a_legacy_campaign_joins_v2_events_the_same_way() -> None:
    legacy = legacy_campaign()
    finished = broadcast("Finished", FINISHED_AT)
    legacy_first = replaced(merge(stored(legacy), finished))

    v2_first = replaced(merge(stored(finished), legacy))

    for name in ("postbackRaw", "raw", "cost", "currency", "total", "live", "status", "events"):
        assert v2_first[name] == legacy_first[name], name
    assert v2_first["source"] == "v2-webhook"


def test_the_legacy_report_again_is_a_duplicate_and_another_a_conflict() -> None:
    legacy = legacy_campaign()
    merged = replaced(merge(stored(broadcast("Finished", FINISHED_AT)), legacy))

    assert merge(merged, legacy).outcome is Merge.DUPLICATE
    other = legacy_campaign(**{"<total>": b"<total>9"})
    assert merge(merged, other).outcome is Merge.CONFLICT


def test_two_legacy_reports_of_one_campaign_still_conflict() -> None:
    legacy = legacy_campaign()
    other = legacy_campaign(**{"<total>": b"<total>9"})

    assert merge(stored(legacy), other).outcome is Merge.CONFLICT


# Bodies kept in the bucket (`rawS3Key`): they move and go like `raw`.


def test_a_legacy_campaign_whose_body_is_in_the_bucket_joins_by_its_key() -> None:
    legacy = legacy_campaign(
        **{"</campaign>": b"<notes>" + b"n" * 100_000 + b"</notes></campaign>"}
    )
    assert legacy.body_in_bucket is not None
    finished = broadcast("Finished", FINISHED_AT)

    legacy_first = replaced(merge(stored(legacy), finished))
    v2_first = replaced(merge(stored(finished), legacy))

    for attributes in (legacy_first, v2_first):
        assert attributes["postbackRawS3Key"] == legacy.attributes["rawS3Key"]
        assert "postbackRaw" not in attributes
        assert "rawS3Key" not in attributes
        assert attributes["raw"] == finished.raw
    assert merge(v2_first, legacy).outcome is Merge.DUPLICATE
    assert merge(legacy_first, legacy).outcome is Merge.DUPLICATE


def test_a_newer_version_held_on_its_item_drops_the_bucket_key_of_the_older() -> None:
    large = fit_item(call_version(MODIFIED, notes="n" * 100_000))
    assert "rawS3Key" in large.attributes

    attributes = replaced(merge(stored(large), call_version(MODIFIED + 1000)))

    assert "rawS3Key" not in attributes
    assert "trimmed" not in attributes
    assert attributes["raw"] == call_version(MODIFIED + 1000).raw
