"""What happens when a report's key is already taken by another report: pure rules, the item as
stored and the item arriving in, the item to write out.

- **v2 calls and texts** are versions of one resource: the same resource again is a duplicate; a
  greater `resourceModified` replaces the mapped attributes and `raw` (keeping `receivedAt`,
  `deliveries`, attributes the mapping does not make, and each recording entry whose recording
  is unchanged); anything else is a conflict. A legacy item and a v2 item never replace each
  other (the first stored stays; the other is a conflict).
- **Campaigns** gather their events: a v2 event sets its entry of `events` (each entry only moves
  forward in time) and, when it is the newest event (`eventTimestamp`, then `resourceModified`),
  the v2 attributes (`name`, `status`, `raw`, ...). A legacy `campaign-finished` and v2 events of
  the same campaign share one item: the legacy report's cost and statistics stay (or are added),
  its body kept in `postbackRaw` (or, when it was too large for the item, named by
  `postbackRawS3Key`), and `raw` holds the newest v2 event, whatever the order they
  came in. An older event, or a second legacy report with other content, is a conflict.

Every replacement or merge sets `updatedAt` (the arrival time of the report that made it) and
adds one to `version` (absent means 1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from functions.names import (
    CallAttribute,
    CampaignAttribute,
    Item,
    RecordingEntry,
    RecordingStatus,
    Source,
    WebhookAttribute,
)
from functions.reports.items import ReportItem, Table, body_sha256


class Merge(StrEnum):
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class MergeDecision:
    outcome: Merge
    attributes: dict[str, Any] | None = None
    """With REPLACE: the whole item to store in place of the stored one."""


DUPLICATE = MergeDecision(Merge.DUPLICATE)
CONFLICT = MergeDecision(Merge.CONFLICT)

V2_CALL_ATTRIBUTES = frozenset(
    {
        CallAttribute.CAMPAIGN_ID,
        CallAttribute.PHONE_NUMBER,
        CallAttribute.TAGS,
        CallAttribute.DISPOSITION,
        CallAttribute.DURATION_SECONDS,
        CallAttribute.CALL_START,
        CallAttribute.STORED_DATA,
        CallAttribute.SMS_SENT,
        CallAttribute.SMS_RECEIVED,
        CallAttribute.RECORDINGS,
        CallAttribute.BATCH_ID,
        CallAttribute.FROM_NUMBER,
        CallAttribute.TO_NUMBER,
        CallAttribute.INBOUND,
        CallAttribute.STATE,
        CallAttribute.FINISH_TIME,
        CallAttribute.BILLED_AMOUNT,
        CallAttribute.CONTACT,
        CallAttribute.RECORDS,
        CallAttribute.MEDIA,
        Item.EXTRA,
        Item.RAW,
        Item.RAW_S3_KEY,
        Item.TRIMMED,
        Item.SOURCE,
        WebhookAttribute.WEBHOOK_ID,
        WebhookAttribute.EVENT_TIMESTAMP,
        WebhookAttribute.RESOURCE_MODIFIED,
    }
)
"""What a v2 call or text item's report makes: a newer version replaces exactly these."""

V2_CAMPAIGN_ATTRIBUTES = frozenset(
    {
        CampaignAttribute.NAME,
        CampaignAttribute.STATUS,
        CampaignAttribute.CAMPAIGN_TYPE,
        CampaignAttribute.FROM_NUMBER,
        CampaignAttribute.TAGS,
        Item.EXTRA,
        Item.RAW,
        Item.RAW_S3_KEY,
        Item.TRIMMED,
        Item.SOURCE,
        WebhookAttribute.WEBHOOK_ID,
        WebhookAttribute.EVENT_TIMESTAMP,
        WebhookAttribute.RESOURCE_MODIFIED,
    }
)
"""What the newest v2 event of a campaign sets (its `events` entry aside)."""

LEGACY_CAMPAIGN_ATTRIBUTES = frozenset(
    {
        CampaignAttribute.COST,
        CampaignAttribute.CURRENCY,
        CampaignAttribute.COST_RAW,
        CampaignAttribute.TOTAL,
        CampaignAttribute.DIALED,
        CampaignAttribute.LIVE,
        CampaignAttribute.MACHINE,
        CampaignAttribute.NO_ANSWER,
        CampaignAttribute.DNC,
        CampaignAttribute.BUSY,
        CampaignAttribute.TRANSFER,
        CampaignAttribute.ERROR,
        CampaignAttribute.MISC,
    }
)
"""What only a legacy `campaign-finished` says of a campaign: kept beside the v2 attributes."""

_BOOKKEEPING = frozenset({Item.RECEIVED_AT, Item.DELIVERIES, Item.UPDATED_AT, Item.VERSION})


def is_v2(attributes: Mapping[str, Any]) -> bool:
    return attributes.get(Item.SOURCE) == Source.V2_WEBHOOK


def may_merge(item: ReportItem) -> bool:
    """Whether a collision needs these rules (else other content is simply a conflict)."""
    return item.table is Table.CAMPAIGNS or is_v2(item.attributes)


def merge(stored: Mapping[str, Any], incoming: ReportItem) -> MergeDecision:
    """What to do with `incoming`, whose key `stored` holds (with other `raw`)."""
    if incoming.table is Table.CAMPAIGNS:
        if is_v2(incoming.attributes):
            return _campaign_event(stored, incoming)
        return _legacy_campaign(stored, incoming)
    return _call_version(stored, incoming)


def _call_version(stored: Mapping[str, Any], incoming: ReportItem) -> MergeDecision:
    if not (is_v2(stored) and is_v2(incoming.attributes)):
        return CONFLICT
    if same_resource(stored.get(Item.RAW), incoming.raw):
        return DUPLICATE
    new = incoming.attributes.get(WebhookAttribute.RESOURCE_MODIFIED)
    old = stored.get(WebhookAttribute.RESOURCE_MODIFIED)
    if new is None or (old is not None and new <= old):
        return CONFLICT
    attributes = _without(stored, V2_CALL_ATTRIBUTES)
    attributes.update(_report_part(incoming))
    recordings = incoming.attributes.get(CallAttribute.RECORDINGS)
    if recordings is not None:
        attributes[CallAttribute.RECORDINGS] = _kept_recordings(
            stored.get(CallAttribute.RECORDINGS), recordings
        )
    return _replace(stored, incoming, attributes)


def _campaign_event(stored: Mapping[str, Any], incoming: ReportItem) -> MergeDecision:
    ((event, when),) = incoming.attributes[CampaignAttribute.EVENTS].items()
    events = dict(stored.get(CampaignAttribute.EVENTS) or {})
    recorded = events.get(event)
    newest = not is_v2(stored) or _order(incoming.attributes) > _order(stored)
    if recorded is not None and (recorded > when or (recorded == when and not newest)):
        return CONFLICT if recorded > when else DUPLICATE
    attributes = dict(stored)
    events[event] = when
    if newest:
        if not is_v2(stored):
            attributes = _without(stored, {CampaignAttribute.NAME, CampaignAttribute.STATUS})
            attributes.update(_postback_body(stored))
        attributes = _without(attributes, V2_CAMPAIGN_ATTRIBUTES)
        attributes.update(_report_part(incoming))
    attributes[CampaignAttribute.EVENTS] = events
    return _replace(stored, incoming, attributes)


def _legacy_campaign(stored: Mapping[str, Any], incoming: ReportItem) -> MergeDecision:
    if not is_v2(stored):
        return CONFLICT
    earlier = _postback_body(stored, kept=True)
    if earlier:
        return DUPLICATE if body_sha256(earlier) == incoming.body_sha256 else CONFLICT
    return _replace(stored, incoming, with_legacy_campaign(stored, incoming.attributes))


def with_legacy_campaign(v2_item: Mapping[str, Any], legacy: Mapping[str, Any]) -> dict[str, Any]:
    """A v2 campaign item with a legacy `campaign-finished`'s own attributes beside it (its name
    and status only where the v2 events gave none) and its body in `postbackRaw`."""
    attributes = dict(v2_item)
    for name in LEGACY_CAMPAIGN_ATTRIBUTES:
        if name in legacy:
            attributes[name] = legacy[name]
    for name in (CampaignAttribute.NAME, CampaignAttribute.STATUS):
        if name in legacy and name not in attributes:
            attributes[name] = legacy[name]
    attributes.update(_postback_body(legacy))
    return attributes


_POSTBACK_BODY = {
    Item.RAW: CampaignAttribute.POSTBACK_RAW,
    Item.RAW_S3_KEY: CampaignAttribute.POSTBACK_RAW_S3_KEY,
}


def _postback_body(attributes: Mapping[str, Any], *, kept: bool = False) -> dict[str, Any]:
    """A legacy campaign item's body as a v2 item keeps it (`postbackRaw`, or `postbackRawS3Key`
    when it lives in the bucket); with `kept`, the body a v2 item kept, named as on its item."""
    if kept:
        return {
            body: attributes[postback]
            for body, postback in _POSTBACK_BODY.items()
            if postback in attributes
        }
    return {
        postback: attributes[body]
        for body, postback in _POSTBACK_BODY.items()
        if body in attributes
    }


def _order(attributes: Mapping[str, Any]) -> tuple[str, str]:
    return (
        str(attributes.get(WebhookAttribute.EVENT_TIMESTAMP) or ""),
        str(attributes.get(WebhookAttribute.RESOURCE_MODIFIED) or ""),
    )


def _report_part(incoming: ReportItem) -> dict[str, Any]:
    return {
        name: value
        for name, value in incoming.attributes.items()
        if name not in _BOOKKEEPING and name != CampaignAttribute.EVENTS
    }


def _without(attributes: Mapping[str, Any], names: frozenset[str] | set[str]) -> dict[str, Any]:
    return {name: value for name, value in attributes.items() if name not in names}


def _replace(
    stored: Mapping[str, Any], incoming: ReportItem, attributes: dict[str, Any]
) -> MergeDecision:
    attributes.update(incoming.key)
    attributes[Item.RECEIVED_AT] = stored.get(
        Item.RECEIVED_AT, incoming.attributes[Item.RECEIVED_AT]
    )
    attributes[Item.DELIVERIES] = stored.get(Item.DELIVERIES, 1)
    attributes[Item.UPDATED_AT] = incoming.attributes[Item.RECEIVED_AT]
    attributes[Item.VERSION] = int(stored.get(Item.VERSION, 1)) + 1
    return MergeDecision(Merge.REPLACE, attributes)


def _kept_recordings(stored: Any, incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The new version's entries, each keeping what happened to it (copied, failed) when the
    stored entry at its place is the same recording, with CallFire's state as now delivered."""
    before = stored if isinstance(stored, list) else []
    kept = []
    for index, entry in enumerate(incoming):
        earlier = before[index] if index < len(before) else None
        same = (
            isinstance(earlier, dict)
            and earlier.get(RecordingEntry.URL) == entry[RecordingEntry.URL]
            and earlier.get(RecordingEntry.RECORDING_ID) == entry.get(RecordingEntry.RECORDING_ID)
        )
        kept.append(_same_recording(earlier, entry) if same and earlier is not None else entry)
    return kept


def _same_recording(earlier: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    kept = {
        name: value for name, value in earlier.items() if name != RecordingEntry.RECORDING_STATE
    }
    if RecordingEntry.RECORDING_STATE in entry:
        kept[RecordingEntry.RECORDING_STATE] = entry[RecordingEntry.RECORDING_STATE]
    if (
        entry[RecordingEntry.STATUS] == RecordingStatus.FAILED
        and earlier.get(RecordingEntry.STATUS) != RecordingStatus.COPIED
    ):
        kept[RecordingEntry.STATUS] = RecordingStatus.FAILED
        kept[RecordingEntry.REASON] = entry.get(RecordingEntry.REASON, "")
    return kept


def same_resource(stored_raw: Any, incoming_raw: str) -> bool:
    """Whether two v2 events carry the same resource (the event around it may differ: another
    webhook, another time of sending)."""
    if not isinstance(stored_raw, str):
        return False
    try:
        before = json.loads(stored_raw, parse_float=Decimal, parse_int=Decimal)
        after = json.loads(incoming_raw, parse_float=Decimal, parse_int=Decimal)
    except (ValueError, RecursionError):
        return False
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return False
    return bool(before.get("resource") == after.get("resource"))
