"""Retention on moto built from the template: the postback function and the replay tool write
`expiresAt` (epoch seconds, a Number, as DynamoDB's TTL requires) counted from each report's
arrival; the tables have TTL on that attribute and the bucket holds the lifecycle rules; without a
retention nothing expires."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.adapters.dynamodb import serialize
from functions.names import Item, Output, Prefix
from local.faults import failing
from local.resources import LocalResources
from tests.helpers import REGION, STEWARDED_CONTEXT, event_body, new_id, quiet, v2_body, v2_event
from tests.integration.conftest import (
    PostbackClient,
    WebhookClient,
    postback_client,
    webhook_client,
)
from tools import replay
from tools.target import Target, TargetError

DAYS = STEWARDED_CONTEXT["reportRetentionDays"]


@pytest.fixture
def kept(
    stewarded_resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostbackClient]:
    """The postback function of the stack with retention."""
    yield from postback_client(stewarded_resources, aws, monkeypatch)


@pytest.fixture
def kept_webhooks(
    stewarded_resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebhookClient]:
    """The webhooks function of the stack with retention."""
    yield from webhook_client(stewarded_resources, aws, monkeypatch)


def raw_item(aws: Callable[[str], Any], table: str, key: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = aws("dynamodb").get_item(
        TableName=table, Key={name: {"S": value} for name, value in key.items()}
    )["Item"]
    return item


def arrival(item: dict[str, Any]) -> int:
    received = item[Item.RECEIVED_AT]["S"]
    return int(datetime.fromisoformat(received).timestamp())


def test_items_are_written_to_expire_their_retention_after_they_arrived(
    kept: PostbackClient, aws: Callable[[str], Any]
) -> None:
    call_id, campaign_id = new_id(), new_id()
    kept.post(event_body("call_finished.xml").replace(b"111111", call_id.encode()))
    kept.post(event_body("campaign_finished.xml").replace(b"22222", campaign_id.encode()))

    call = raw_item(aws, kept.outputs[Output.CALLS_TABLE], {"callId": call_id, "eventType": "call"})
    campaign = raw_item(aws, kept.outputs[Output.CAMPAIGNS_TABLE], {"campaignId": campaign_id})

    for item in (call, campaign):
        assert set(item[Item.EXPIRES_AT]) == {"N"}
        assert int(item[Item.EXPIRES_AT]["N"]) == arrival(item) + DAYS * 86400


def test_v2_items_expire_as_legacy_ones_and_keep_their_expiry_when_a_newer_version_lands(
    kept_webhooks: WebhookClient, aws: Callable[[str], Any]
) -> None:
    call_id, campaign_id = new_id(), new_id()
    call = v2_event("outbound_call_finished.json", id=int(call_id))
    broadcast = v2_event("call_broadcast_finished.json", id=int(campaign_id))
    for event in (call, broadcast):
        assert kept_webhooks.post(v2_body(event)).body["status"] == "stored"
    calls, campaigns = (
        kept_webhooks.outputs[Output.CALLS_TABLE],
        kept_webhooks.outputs[Output.CAMPAIGNS_TABLE],
    )
    call_key = {"callId": call_id, "eventType": "call"}
    first = raw_item(aws, calls, call_key)
    call["resource"]["modified"] += 1000
    assert kept_webhooks.post(v2_body(call)).body["status"] == "updated"

    newer = raw_item(aws, calls, call_key)
    campaign = raw_item(aws, campaigns, {"campaignId": campaign_id})
    for item in (first, campaign):
        assert int(item[Item.EXPIRES_AT]["N"]) == arrival(item) + DAYS * 86400
    assert newer[Item.VERSION] == {"N": "2"}
    assert newer[Item.EXPIRES_AT] == first[Item.EXPIRES_AT]


def test_the_tables_expire_items_on_that_attribute(
    kept: PostbackClient, aws: Callable[[str], Any]
) -> None:
    for table in (kept.outputs[Output.CALLS_TABLE], kept.outputs[Output.CAMPAIGNS_TABLE]):
        description = aws("dynamodb").describe_time_to_live(TableName=table)
        assert description["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": Item.EXPIRES_AT,
        }


def test_the_bucket_holds_the_template_s_lifecycle_rules(
    kept: PostbackClient, aws: Callable[[str], Any]
) -> None:
    rules = aws("s3").get_bucket_lifecycle_configuration(Bucket=kept.outputs[Output.BUCKET])[
        "Rules"
    ]

    by_prefix = {rule["Filter"]["Prefix"]: rule for rule in rules}
    assert by_prefix[Prefix.RECORDINGS]["Expiration"] == {
        "Days": STEWARDED_CONTEXT["recordingRetentionDays"]
    }
    assert by_prefix[Prefix.REJECTED]["Expiration"] == {
        "Days": STEWARDED_CONTEXT["rejectedRetentionDays"]
    }
    assert by_prefix[""]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    for prefix in (Prefix.RECORDINGS, Prefix.REJECTED):
        assert by_prefix[prefix]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert not [prefix for prefix in by_prefix if prefix.startswith(Prefix.UNSTORED)]


def kept_target(kept: PostbackClient, days: int | None = None) -> Target:
    """The replay tool's view of the stack with retention (or of `days` instead)."""
    return Target(
        session=boto3.session.Session(region_name=REGION),
        endpoint_url=None,
        calls_table=kept.outputs[Output.CALLS_TABLE],
        campaigns_table=kept.outputs[Output.CAMPAIGNS_TABLE],
        bucket=kept.outputs[Output.BUCKET],
        recordings_queue=None,
        description="moto",
        report_retention_days=(
            int(kept.outputs[Output.REPORT_RETENTION_DAYS]) if days is None else days
        ),
    )


def test_a_replayed_body_expires_as_it_would_have_from_its_first_arrival(
    kept: PostbackClient, aws: Callable[[str], Any]
) -> None:
    call_id = new_id()
    kept.post(event_body("call_minimal.xml"))
    with failing("dynamodb", "PutItem"):
        assert (
            kept.post(event_body("call_finished.xml").replace(b"111111", call_id.encode())).status
            == 503
        )
    target = kept_target(kept)
    today = datetime.now(UTC).date()

    replay.replay_archived(target, Prefix.UNSTORED, today, today, progress=quiet)

    call = raw_item(aws, target.calls_table, {"callId": call_id, "eventType": "call"})
    assert int(call[Item.EXPIRES_AT]["N"]) == arrival(call) + DAYS * 86400


def test_without_a_retention_nothing_is_written_to_expire(
    postback: PostbackClient, aws: Callable[[str], Any]
) -> None:
    call_id = new_id()
    postback.post(event_body("call_finished.xml").replace(b"111111", call_id.encode()))

    call = raw_item(
        aws, postback.outputs[Output.CALLS_TABLE], {"callId": call_id, "eventType": "call"}
    )
    assert Item.EXPIRES_AT not in call
    described = aws("dynamodb").describe_time_to_live(
        TableName=postback.outputs[Output.CALLS_TABLE]
    )
    assert described["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"


def test_replay_expiry_gives_items_from_before_the_retention_their_expiry(
    kept: PostbackClient, aws: Callable[[str], Any]
) -> None:
    table = kept.outputs[Output.CALLS_TABLE]
    older, expiring = new_id(), new_id()
    for call_id, extra in ((older, {}), (expiring, {Item.EXPIRES_AT: 42})):
        aws("dynamodb").put_item(
            TableName=table,
            Item=serialize(
                {
                    "callId": call_id,
                    "eventType": "call",
                    Item.RECEIVED_AT: "2020-01-01T00:00:00.000Z",
                    Item.RAW: "<call-finished/>",
                    **extra,
                }
            ),
        )
    target = kept_target(kept)

    dry = replay.apply_retention(target, dry_run=True, progress=quiet)
    dry_item = raw_item(aws, table, {"callId": older, "eventType": "call"})
    first = replay.apply_retention(target, progress=quiet)
    again = replay.apply_retention(target, progress=quiet)

    assert dry["would expire"] >= 1
    assert Item.EXPIRES_AT not in dry_item
    assert first["expiry set"] >= 1
    assert "expiry set" not in again
    item = raw_item(aws, table, {"callId": older, "eventType": "call"})
    assert int(item[Item.EXPIRES_AT]["N"]) == arrival(item) + DAYS * 86400
    untouched = raw_item(aws, table, {"callId": expiring, "eventType": "call"})
    assert untouched[Item.EXPIRES_AT] == {"N": "42"}
    with pytest.raises(TargetError, match="reportRetentionDays"):
        replay.apply_retention(kept_target(kept, days=0), progress=quiet)
