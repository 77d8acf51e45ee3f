"""Reports as the items of docs/contract.md (plain Python values; the adapter serialises them)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from functions.names import (
    CallAttribute,
    CallsTable,
    CampaignAttribute,
    CampaignsTable,
    Item,
    Prefix,
    RecordingEntry,
    RecordingState,
    RecordingStatus,
    Source,
    WebhookAttribute,
)
from functions.reports.errors import RejectReason, ReportRejected
from functions.reports.model import (
    CallReport,
    CampaignReport,
    RecordingDetail,
    Report,
    WebhookOrigin,
)

DYNAMODB_ITEM_BYTES = 400 * 1024
"""DynamoDB's item size limit: "The maximum item size in DynamoDB is 400 KB", and "all size
measurements in DynamoDB use binary-based units (1 KB = 1024 bytes)"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)."""
MAX_ITEM_BYTES = DYNAMODB_ITEM_BYTES - 4 * 1024
"""What an item may hold when written, besides the room kept for each recording's copy details:
a few KiB under the limit, for the counters that grow (`deliveries`)."""
RECORDING_COPY_BYTES = 1024
"""Room kept per recording for what the recordings function adds to its entry: an `s3Key` (up to
about 300 bytes), a `contentType` (up to 255 characters) and `bytes`, or a `FAILED` `reason` (up
to 500 characters); tests/unit/test_items.py measures the largest."""
INLINE_ITEM_BYTES = 64 * 1024
"""An item that would pass this size with its body keeps the body in the bucket instead (`raw/`,
named on the item by `rawS3Key`): it fits DynamoDB's limit, and a write costs one write unit per
KiB while an S3 PUT costs about eight."""


class Table(StrEnum):
    CALLS = "calls"
    CAMPAIGNS = "campaigns"


_PARTITION_KEYS = {
    Table.CALLS: CallsTable.PARTITION_KEY,
    Table.CAMPAIGNS: CampaignsTable.PARTITION_KEY,
}


@dataclass(frozen=True, slots=True)
class ReportItem:
    """One item to store: its table, its key and all of its attributes (key included)."""

    table: Table
    key: dict[str, str]
    attributes: dict[str, Any]
    body_in_bucket: str | None = None
    """The body, when the item names it by `rawS3Key` instead of holding it as `raw`: the store
    writes it to the bucket before the item."""

    @property
    def partition_key(self) -> str:
        """The name of the table's partition key."""
        return _PARTITION_KEYS[self.table]

    @property
    def raw(self) -> str:
        """The body as text, wherever it is kept."""
        if self.body_in_bucket is not None:
            return self.body_in_bucket
        text: str = self.attributes[Item.RAW]
        return text

    @property
    def body_sha256(self) -> str:
        return body_sha256(self.attributes) if self.body_in_bucket is None else sha256(self.raw)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def body_key(raw: str, extension: str = "xml") -> str:
    """Where a body too large for its item is kept: named by its content, so that the same body
    delivered again is the same object (`.xml` a postback, `.json` a v2 webhook event)."""
    return f"{Prefix.RAW}{sha256(raw)}.{extension}"


def body_sha256(attributes: Mapping[str, Any]) -> str:
    """The SHA-256 of a stored item's body: of its `raw`, or the one its `rawS3Key` is named by.
    Two deliveries are the same report when these are equal."""
    key = attributes.get(Item.RAW_S3_KEY)
    if isinstance(key, str) and key.startswith(Prefix.RAW):
        return key.removeprefix(Prefix.RAW).partition(".")[0]
    return sha256(str(attributes.get(Item.RAW, "")))


def to_item(report: Report, *, raw: str, received_at: str) -> ReportItem:
    if isinstance(report, CallReport):
        return _call_item(report, raw=raw, received_at=received_at)
    return _campaign_item(report, raw=raw, received_at=received_at)


_CALL_ATTRIBUTES = (
    (CallAttribute.CAMPAIGN_ID, "campaign_id"),
    (CallAttribute.PHONE_NUMBER, "phone_number"),
    (CallAttribute.DNIS, "dnis"),
    (CallAttribute.DISPOSITION, "disposition"),
    (CallAttribute.DURATION_SECONDS, "duration_seconds"),
    (CallAttribute.CALL_START, "call_start"),
    (CallAttribute.RESPONSE_TIME, "response_time"),
    (CallAttribute.NOTES, "notes"),
    (CallAttribute.EXTRA_DATA, "extra_data"),
    (CallAttribute.AGENT_ID, "agent_id"),
    (CallAttribute.AGENT_RESPONSE, "agent_response"),
    (CallAttribute.SMS_SENT, "sms_sent"),
    (CallAttribute.SMS_RECEIVED, "sms_received"),
    (CallAttribute.REPLY_FROM_CAMPAIGN, "reply_from_campaign"),
    (CallAttribute.BATCH_ID, "batch_id"),
    (CallAttribute.FROM_NUMBER, "from_number"),
    (CallAttribute.TO_NUMBER, "to_number"),
    (CallAttribute.INBOUND, "inbound"),
    (CallAttribute.STATE, "state"),
    (CallAttribute.FINISH_TIME, "finish_time"),
    (CallAttribute.BILLED_AMOUNT, "billed_amount"),
    (CallAttribute.CONTACT, "contact"),
)
"""Item attribute name and report field, for the plain values of a call."""

_CAMPAIGN_ATTRIBUTES = (
    (CampaignAttribute.NAME, "name"),
    (CampaignAttribute.STATUS, "status"),
    (CampaignAttribute.COST, "cost"),
    (CampaignAttribute.CURRENCY, "currency"),
    (CampaignAttribute.COST_RAW, "cost_raw"),
    (CampaignAttribute.CAMPAIGN_TYPE, "campaign_type"),
    (CampaignAttribute.FROM_NUMBER, "from_number"),
)
ERROR_STATE = RecordingState.ERROR
"""CallFire's state of a recording that failed on its side: nothing to copy."""


def _call_item(report: CallReport, *, raw: str, received_at: str) -> ReportItem:
    key = {CallsTable.PARTITION_KEY: report.call_id, CallsTable.SORT_KEY: report.event_type.value}
    attributes = _present(report, key, _CALL_ATTRIBUTES)
    if report.tags:
        attributes[CallAttribute.TAGS] = list(report.tags)
    if report.stored_data:
        attributes[CallAttribute.STORED_DATA] = dict(report.stored_data)
    if report.records:
        attributes[CallAttribute.RECORDS] = list(report.records)
    if report.media is not None:
        attributes[CallAttribute.MEDIA] = list(report.media)
    if report.recording_urls:
        attributes[CallAttribute.RECORDINGS] = [
            recording_entry(url, detail)
            for url, detail in zip(
                report.recording_urls,
                report.recording_details or [None] * len(report.recording_urls),
                strict=True,
            )
        ]
    _add_bookkeeping(attributes, report, raw=raw, received_at=received_at)
    return ReportItem(Table.CALLS, key, attributes)


def recording_entry(url: str, detail: RecordingDetail | None) -> dict[str, Any]:
    """A new entry of `recordings`: PENDING, or FAILED when CallFire reported an ERROR."""
    entry: dict[str, Any] = {
        RecordingEntry.URL: url,
        RecordingEntry.STATUS: RecordingStatus.PENDING,
    }
    if detail is None:
        return entry
    if detail.recording_id is not None:
        entry[RecordingEntry.RECORDING_ID] = detail.recording_id
    if detail.state is not None:
        entry[RecordingEntry.RECORDING_STATE] = detail.state
    if detail.state == ERROR_STATE:
        entry[RecordingEntry.STATUS] = RecordingStatus.FAILED
        entry[RecordingEntry.REASON] = "CallFire reported the recording's state as ERROR"
    return entry


def _campaign_item(report: CampaignReport, *, raw: str, received_at: str) -> ReportItem:
    key = {CampaignsTable.PARTITION_KEY: report.campaign_id}
    attributes = _present(report, key, _CAMPAIGN_ATTRIBUTES)
    attributes.update(report.stats)
    if report.tags:
        attributes[CampaignAttribute.TAGS] = list(report.tags)
    if report.events:
        attributes[CampaignAttribute.EVENTS] = dict(report.events)
    _add_bookkeeping(attributes, report, raw=raw, received_at=received_at)
    return ReportItem(Table.CAMPAIGNS, key, attributes)


def _present(
    report: Report, key: dict[str, str], fields: tuple[tuple[str, str], ...]
) -> dict[str, Any]:
    """The key and the report's plain values; absent values become absent attributes."""
    attributes: dict[str, Any] = dict(key)
    for name, field in fields:
        value = getattr(report, field)
        if value is not None:
            attributes[name] = value
    return attributes


def _add_bookkeeping(
    attributes: dict[str, Any], report: Report, *, raw: str, received_at: str
) -> None:
    if report.extra:
        attributes[Item.EXTRA] = dict(report.extra)
    attributes[Item.RAW] = raw
    attributes[Item.RECEIVED_AT] = received_at
    attributes[Item.DELIVERIES] = 1
    if report.origin is None:
        attributes[Item.SOURCE] = Source.LEGACY_POSTBACK
    else:
        attributes[Item.SOURCE] = Source.V2_WEBHOOK
        _add_origin(attributes, report.origin)


def _add_origin(attributes: dict[str, Any], origin: WebhookOrigin) -> None:
    for name, value in (
        (WebhookAttribute.WEBHOOK_ID, origin.webhook_id),
        (WebhookAttribute.EVENT_TIMESTAMP, origin.event_timestamp),
        (WebhookAttribute.RESOURCE_MODIFIED, origin.resource_modified),
    ):
        if value is not None:
            attributes[name] = value


ALWAYS_INLINE_RAW_BYTES = 2 * 1024
"""A body this small always makes an item that keeps it: each element costs at least four bytes
of body and at most about 60 bytes of item (its tag as a key, plus its own text or a short
truncation note), so such an item stays under 16 times the body plus the fixed names (32 KiB),
and its recordings' room under 150 times RECORDING_COPY_BYTES."""
_UNTRIMMED = frozenset(
    {
        CallsTable.PARTITION_KEY,
        CallsTable.SORT_KEY,
        CampaignsTable.PARTITION_KEY,
        *CallsTable.INDEXES[CallsTable.BY_CAMPAIGN],
        *CallsTable.INDEXES[CallsTable.BY_PHONE_NUMBER],
        CallAttribute.RECORDINGS,
        Item.RAW_S3_KEY,
        Item.RECEIVED_AT,
        Item.DELIVERIES,
    }
)
"""Never cut short: the keys, the index keys, the recordings and the bookkeeping."""
TRUNCATED = "#truncated"
TRUNCATION_NOTE = "too large for the item; the whole body is in the bucket at rawS3Key"


def fit_item(item: ReportItem) -> ReportItem:
    """The item as it is stored. It holds its body (`raw`) when it stays within INLINE_ITEM_BYTES;
    else it names the body in the bucket (`rawS3Key`), and if it is still too large for DynamoDB,
    its largest attributes are cut short until it fits (named in `trimmed`). Raises
    ReportRejected when even that cannot make it fit (thousands of recordings)."""
    if len(item.raw.encode("utf-8")) <= ALWAYS_INLINE_RAW_BYTES:
        return item
    room = MAX_ITEM_BYTES - RECORDING_COPY_BYTES * len(
        item.attributes.get(CallAttribute.RECORDINGS, ())
    )
    if item_size(item.attributes) <= min(INLINE_ITEM_BYTES, room):
        return item
    attributes = dict(item.attributes)
    raw = attributes.pop(Item.RAW)
    attributes[Item.RAW_S3_KEY] = body_key(raw, _body_extension(attributes))
    trimmed = _trim(attributes, room)
    if trimmed:
        attributes[Item.TRIMMED] = trimmed
    return ReportItem(item.table, item.key, attributes, body_in_bucket=raw)


def _body_extension(attributes: Mapping[str, Any]) -> str:
    return "json" if attributes.get(Item.SOURCE) == Source.V2_WEBHOOK else "xml"


def _trim(attributes: dict[str, Any], room: int) -> list[str]:
    """Cut the largest attributes short until the item, with the list of those cut, fits in
    `room`; that list, in order."""
    trimmed: list[str] = []
    while item_size({**attributes, **({Item.TRIMMED: trimmed} if trimmed else {})}) > room:
        candidates = [
            name
            for name, value in attributes.items()
            if name not in _UNTRIMMED and name not in trimmed
            if isinstance(value, str | list | dict)
        ]
        if not candidates:
            raise ReportRejected(
                RejectReason.TOO_LARGE,
                f"the report makes an item of about {item_size(attributes)} bytes even without "
                f"its body; at most {room} can be stored",
            )
        name = max(candidates, key=lambda candidate: item_size(attributes[candidate]))
        trimmed.append(name)
        excess = item_size({**attributes, Item.TRIMMED: trimmed}) - room
        shortened = _shortened(attributes[name], item_size(attributes[name]) - excess)
        if shortened is None:
            del attributes[name]
        else:
            attributes[name] = shortened
    return trimmed


def _shortened(value: Any, budget: int) -> Any:
    """The start of `value` within `budget` bytes of DynamoDB's size (a map keeps a note that it
    was cut); None when nothing is left."""
    if isinstance(value, str):
        text = value.encode("utf-8")[: max(budget, 0)].decode("utf-8", errors="ignore")
        return text or None
    if isinstance(value, dict):
        note = {TRUNCATED: TRUNCATION_NOTE}
        kept: dict[str, Any] = {}
        size = item_size(note)
        for name, element in value.items():
            size += item_size(name) + item_size(element) + 1
            if size > budget:
                break
            kept[name] = element
        return {**kept, **note}
    kept_list: list[Any] = []
    size = 3
    for element in value:
        size += item_size(element) + 1
        if size > budget:
            break
        kept_list.append(element)
    return kept_list or None


def item_size(value: Any) -> int:
    """An upper bound of DynamoDB's size of `value`, names included, as its documentation counts."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | Decimal):
        return 21
    if isinstance(value, dict):
        return 3 + sum(item_size(name) + item_size(element) + 1 for name, element in value.items())
    if isinstance(value, list | tuple):
        return 3 + sum(item_size(element) + 1 for element in value)
    raise TypeError(f"no DynamoDB size for {type(value).__name__}")
