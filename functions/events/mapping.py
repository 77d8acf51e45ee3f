"""From one change of one item to the events it means (docs/events.md):

- an item written (INSERT), or replaced by a higher `version` (MODIFY): one event for the item,
  `Call Finished`, `Text Sent`, `Text Received` or `Campaign Started|Stopped|Finished`;
- a recording entry that became `COPIED` or `FAILED`: `Recording Copied` or `Recording Failed`;
- anything else (a delivery counted, a recording still pending, an item removed, a smoke test's
  report): nothing.

Every event's `eventId` is a hash of what identifies the fact, never of when it was seen, so the
same fact published twice (delivery is at least once) carries the same id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.events.plain_json import dumps
from functions.events.stream import Change, ChangeKind, UnreadableRecord
from functions.names import (
    CallAttribute,
    CampaignAttribute,
    CampaignEvent,
    DetailType,
    EventDetail,
    Item,
    RecordingEntry,
    RecordingStatus,
)
from functions.reports.items import Table
from functions.reports.model import EventType
from functions.reports.smoke import is_smoke_item

MAX_EVENT_BYTES = 256_000
"""EventBridge takes entries (and whole PutEvents requests) of less than 256 KB, counted as
`entry_size` does: "Calculating Amazon EventBridge PutEvents event entry size", EventBridge User
Guide. An event that would be larger leaves out its largest attributes (see `_fitted`)."""
TIME_BYTES = 14
"""What the `Time` parameter counts towards an entry's size, whatever its value."""

_CALL_DETAIL_TYPES = {
    EventType.CALL: DetailType.CALL_FINISHED,
    EventType.TEXT_SENT: DetailType.TEXT_SENT,
    EventType.TEXT_REPLY: DetailType.TEXT_RECEIVED,
}
_CAMPAIGN_DETAIL_TYPES = {
    CampaignEvent.STARTED: DetailType.CAMPAIGN_STARTED,
    CampaignEvent.STOPPED: DetailType.CAMPAIGN_STOPPED,
    CampaignEvent.FINISHED: DetailType.CAMPAIGN_FINISHED,
}
_CAMPAIGN_EVENT_ORDER = (CampaignEvent.STARTED, CampaignEvent.STOPPED, CampaignEvent.FINISHED)
_RECORDING_DETAIL_TYPES = {
    RecordingStatus.COPIED: DetailType.RECORDING_COPIED,
    RecordingStatus.FAILED: DetailType.RECORDING_FAILED,
}
_RECORDING_ATTRIBUTES = {
    RecordingStatus.COPIED: (
        RecordingEntry.S3_KEY,
        RecordingEntry.CONTENT_TYPE,
        RecordingEntry.BYTES,
    ),
    RecordingStatus.FAILED: (RecordingEntry.REASON,),
}


@dataclass(frozen=True, slots=True)
class BusEvent:
    """One entry for PutEvents: `detail` is its JSON text, ready to send."""

    detail_type: str
    detail: str
    resources: tuple[str, ...]
    time: datetime | None
    left_out: tuple[str, ...] = ()
    """Attributes left out to fit EventBridge's size limit (also in the detail's `truncated`)."""


@dataclass(frozen=True, slots=True)
class EventRules:
    """What the mapping needs to know besides the change itself."""

    tables: Mapping[str, Table]
    """Each table's name → which table it is."""
    bucket: str
    """Where recordings are copied (named in `Recording Copied`)."""
    source: str
    """The events' `source`; it counts towards their size."""


def entry_size(event: BusEvent, source: str) -> int:
    """The entry's size as EventBridge counts it (the User Guide page cited above)."""
    return (
        (TIME_BYTES if event.time is not None else 0)
        + len(source.encode("utf-8"))
        + len(event.detail_type.encode("utf-8"))
        + len(event.detail.encode("utf-8"))
        + sum(len(resource.encode("utf-8")) for resource in event.resources)
    )


def events_for(change: Change, rules: EventRules) -> list[BusEvent]:
    """The events one stream record means, item event first; none for a smoke test's item
    (`make smoke`: it proves the receiver works, not that CallFire reported anything, so no
    consumer should act on it). Raises UnreadableRecord."""
    table = rules.tables.get(change.table_name)
    if table is None:
        raise UnreadableRecord("a record of a table this function does not publish")
    if change.kind == ChangeKind.REMOVE or change.new is None or is_smoke_item(change.new):
        return []
    events = []
    if is_new_version(change):
        events.append(item_event(change, table, rules))
    if table is Table.CALLS:
        events.extend(recording_events(change, rules))
    return events


def version(item: Mapping[str, Any] | None) -> int:
    try:
        return int((item or {}).get(Item.VERSION, 1))
    except (TypeError, ValueError):
        return 1


def is_new_version(change: Change) -> bool:
    """A new item, or the item replaced by a higher version. A MODIFY that only counts a delivery
    or records a copy keeps the version: it is not a new fact about the report."""
    if change.kind == ChangeKind.INSERT:
        return True
    return change.kind == ChangeKind.MODIFY and version(change.new) > version(change.old)


def item_detail_type(table: Table, item: Mapping[str, Any]) -> str:
    if table is Table.CALLS:
        event_type = item.get(CallAttribute.EVENT_TYPE)
        if event_type not in _CALL_DETAIL_TYPES:
            raise UnreadableRecord("a call item with an eventType that has no event")
        return _CALL_DETAIL_TYPES[EventType(event_type)]
    return _CAMPAIGN_DETAIL_TYPES[latest_campaign_event(item)]


def latest_campaign_event(item: Mapping[str, Any]) -> str:
    """The newest entry of a v2 campaign's `events` map (by time, then Started < Stopped <
    Finished); a campaign item without one comes from a legacy `campaign-finished`."""
    events = item.get(CampaignAttribute.EVENTS)
    if not isinstance(events, Mapping):
        return CampaignEvent.FINISHED
    known = [
        (str(events[name]), rank, name)
        for rank, name in enumerate(_CAMPAIGN_EVENT_ORDER)
        if name in events
    ]
    return max(known)[2] if known else CampaignEvent.FINISHED


def event_id(*identity: Any) -> str:
    return hashlib.sha256(dumps(list(identity)).encode("utf-8")).hexdigest()[:32]


def item_event(change: Change, table: Table, rules: EventRules) -> BusEvent:
    item = change.new or {}
    detail_type = item_detail_type(table, item)
    item_version = version(item)
    detail = {name: value for name, value in item.items() if name not in EventDetail.LEFT_OUT}
    detail[Item.VERSION] = item_version
    detail[EventDetail.EVENT_ID] = event_id(table.value, change.keys, item_version, detail_type)
    detail[EventDetail.TABLE] = table.value
    kept = {*change.keys, Item.VERSION, EventDetail.EVENT_ID, EventDetail.TABLE}
    return _fitted(detail_type, detail, kept | {CallAttribute.CAMPAIGN_ID}, change, rules)


def recording_events(change: Change, rules: EventRules) -> Iterator[BusEvent]:
    """One event per entry of `recordings` whose status became COPIED or FAILED."""
    new_entries = _entries(change.new)
    old_entries = _entries(change.old)
    for index, entry in enumerate(new_entries):
        status = entry.get(RecordingEntry.STATUS)
        if status not in _RECORDING_DETAIL_TYPES:
            continue
        before = old_entries[index] if index < len(old_entries) else {}
        same_url = before.get(RecordingEntry.URL) == entry.get(RecordingEntry.URL)
        if same_url and before.get(RecordingEntry.STATUS) == status:
            continue
        yield recording_event(change, index, entry, rules)


def _entries(item: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    entries = (item or {}).get(CallAttribute.RECORDINGS)
    if not isinstance(entries, list):
        return []
    return [entry if isinstance(entry, Mapping) else {} for entry in entries]


def recording_event(
    change: Change, index: int, entry: Mapping[str, Any], rules: EventRules
) -> BusEvent:
    status = str(entry[RecordingEntry.STATUS])
    url = entry.get(RecordingEntry.URL)
    detail: dict[str, Any] = {
        CallAttribute.CALL_ID: change.keys.get(CallAttribute.CALL_ID),
        CallAttribute.EVENT_TYPE: change.keys.get(CallAttribute.EVENT_TYPE),
    }
    campaign_id = (change.new or {}).get(CallAttribute.CAMPAIGN_ID)
    if campaign_id is not None:
        detail[CallAttribute.CAMPAIGN_ID] = campaign_id
    detail[EventDetail.INDEX] = index
    detail[RecordingEntry.URL] = url
    if status == RecordingStatus.COPIED:
        detail[EventDetail.BUCKET] = rules.bucket
    for name in _RECORDING_ATTRIBUTES[status]:
        if name in entry:
            detail[name] = entry[name]
    detail[EventDetail.EVENT_ID] = event_id(Table.CALLS.value, change.keys, index, url, status)
    detail[EventDetail.TABLE] = Table.CALLS.value
    trimmable = {RecordingEntry.URL, RecordingEntry.REASON}
    return _fitted(_RECORDING_DETAIL_TYPES[status], detail, set(detail) - trimmable, change, rules)


def _fitted(
    detail_type: str,
    detail: dict[str, Any],
    kept: set[str],
    change: Change,
    rules: EventRules,
) -> BusEvent:
    """The event, under MAX_EVENT_BYTES: while it is too large, the largest attribute not in
    `kept` is left out (the larger name first on a tie) and named in the detail's `truncated`.
    The same item always loses the same attributes; consumers read them from the table."""
    resources = (change.table_arn,)
    event = BusEvent(detail_type, dumps(detail), resources, change.changed_at)
    left_out: list[str] = []
    while entry_size(event, rules.source) > MAX_EVENT_BYTES:
        candidates = [
            (len(dumps(value).encode("utf-8")), name)
            for name, value in detail.items()
            if name not in kept and name != EventDetail.TRUNCATED
        ]
        if not candidates:
            raise UnreadableRecord("the event cannot be made small enough for EventBridge")
        _, largest = max(candidates)
        del detail[largest]
        left_out.append(largest)
        detail[EventDetail.TRUNCATED] = sorted(left_out)
        event = BusEvent(
            detail_type, dumps(detail), resources, change.changed_at, tuple(sorted(left_out))
        )
    return event
