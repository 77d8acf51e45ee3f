"""Storing the events of one v2 webhook delivery, one by one: each report through the store-once
rule, each event of another resource type kept as it is in S3. Shared by the webhooks service and
the replay tool, so that a delivery replayed is stored exactly as if it had just arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from functions.names import CallfireV2, Prefix
from functions.postback.body import iso_utc, unwrap_body
from functions.postback.ports import EventArchive, ReportStore
from functions.postback.store_once import Stored, store_once
from functions.reports import Report, ReportRejected
from functions.reports.items import ReportItem, fit_item, to_item
from functions.reports.links import LinkSet, links_of
from functions.reports.webhook_json import (
    Delivery,
    DeliveryEvent,
    OtherEvent,
    RefusedEvent,
    decode_json,
    read_delivery,
)

JSON = "json"
"""The extension of a webhook body or event kept in the bucket."""


class EventResult(StrEnum):
    STORED = "stored"
    UPDATED = "updated"
    """A newer version replaced the stored one, or the event joined its campaign's item."""
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    KEPT = "kept"
    """Another resource type's event, now in `events/`."""
    REFUSED = "refused"


_RESULTS = {
    Stored.NEW: EventResult.STORED,
    Stored.UPDATED: EventResult.UPDATED,
    Stored.DUPLICATE: EventResult.DUPLICATE,
    Stored.CONFLICT: EventResult.CONFLICT,
}


@dataclass(frozen=True, slots=True)
class EventOutcome:
    index: int
    result: EventResult
    report: Report | None = None
    other: OtherEvent | None = None
    key: str | None = None
    """Where an other event is kept."""
    reason: str = ""
    detail: str = ""

    @property
    def low_balance(self) -> bool:
        return self.other is not None and self.other.resource_type == CallfireV2.LOW_BALANCE


def read_webhook(body: bytes | str, content_encoding: str | None, limit: int) -> Delivery:
    """The delivery in a body as received. Raises ReportRejected for the whole body."""
    return read_delivery(decode_json(unwrap_body(body, content_encoding, limit)))


def delivery_items(delivery: Delivery, received_at: datetime) -> list[ReportItem]:
    """The item each readable report of `delivery` makes (events of other resource types and
    refused ones make none)."""
    items = []
    for event in delivery.events:
        if isinstance(event.content, OtherEvent | RefusedEvent):
            continue
        try:
            items.append(to_item(event.content, raw=event.raw, received_at=iso_utc(received_at)))
        except ReportRejected:
            continue
    return items


def delivery_links(delivery: Delivery, received_at: datetime) -> LinkSet:
    """What the delivery's body is indexed by when it is archived: every report's links."""
    return LinkSet(tuple(links_of(item) for item in delivery_items(delivery, received_at)))


def event_key(other: OtherEvent, index: int, received_at: datetime) -> str:
    """`events/<resourceType>/YYYY/MM/DD/<webhookId>-<eventTimestamp>-<n>.json`: dated by the
    event's own time, so that the same delivery sent again names the same object."""
    if other.timestamp_ms is not None:
        try:
            day = datetime.fromtimestamp(other.timestamp_ms // 1000, UTC)
        except (OverflowError, OSError, ValueError):
            day = received_at.astimezone(UTC)
    else:
        day = received_at.astimezone(UTC)
    stamp = "no-timestamp" if other.timestamp_ms is None else str(other.timestamp_ms)
    webhook = _segment(other.webhook_id or "no-webhook")
    return (
        f"{Prefix.EVENTS}{_segment(other.resource_type)}/{day:%Y/%m/%d}/"
        f"{webhook}-{_segment(stamp)}-{index}.{JSON}"
    )


def _segment(value: str) -> str:
    text = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in value)
    return text[:128].strip(".") or "_"


class DeliveryStore:
    def __init__(self, store: ReportStore, events: EventArchive) -> None:
        self._store = store
        self._events = events

    def store_event(
        self, event: DeliveryEvent, *, received_at: datetime, deadline: float
    ) -> EventOutcome:
        """Raises StorageUnavailable or ArchiveUnavailable (nothing ends past `deadline`, a
        time.monotonic() value); everything else is an outcome."""
        content = event.content
        if isinstance(content, RefusedEvent):
            return EventOutcome(
                event.index, EventResult.REFUSED, reason=content.reason.value, detail=content.detail
            )
        if isinstance(content, OtherEvent):
            key = event_key(content, event.index, received_at)
            new = self._events.keep_event(
                key, event.raw, received_at=received_at, deadline=deadline
            )
            result = EventResult.KEPT if new else EventResult.DUPLICATE
            return EventOutcome(event.index, result, other=content, key=key)
        try:
            item = fit_item(to_item(content, raw=event.raw, received_at=iso_utc(received_at)))
        except ReportRejected as refusal:
            return EventOutcome(
                event.index,
                EventResult.REFUSED,
                report=content,
                reason=refusal.reason.value,
                detail=refusal.detail,
            )
        stored = store_once(self._store, item, deadline=deadline)
        return EventOutcome(event.index, _RESULTS[stored], report=content)
