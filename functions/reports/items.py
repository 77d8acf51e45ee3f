"""Reports as the items of docs/contract.md (plain Python values; the adapter serialises them)."""

from __future__ import annotations

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
    RecordingEntry,
    RecordingStatus,
)
from functions.reports.errors import RejectReason, ReportRejected
from functions.reports.model import CallReport, CampaignReport, Report

MAX_ITEM_BYTES = 380 * 1024
"""DynamoDB stores items of up to 400 KB; the rest is left for the recordings' copy details."""


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

    @property
    def partition_key(self) -> str:
        """The name of the table's partition key."""
        return _PARTITION_KEYS[self.table]

    @property
    def raw(self) -> str:
        text: str = self.attributes[Item.RAW]
        return text


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
)
"""Item attribute name and report field, for the plain values of a call."""

_CAMPAIGN_ATTRIBUTES = (
    (CampaignAttribute.NAME, "name"),
    (CampaignAttribute.STATUS, "status"),
    (CampaignAttribute.COST, "cost"),
    (CampaignAttribute.CURRENCY, "currency"),
    (CampaignAttribute.COST_RAW, "cost_raw"),
)


def _call_item(report: CallReport, *, raw: str, received_at: str) -> ReportItem:
    key = {CallsTable.PARTITION_KEY: report.call_id, CallsTable.SORT_KEY: report.event_type.value}
    attributes = _present(report, key, _CALL_ATTRIBUTES)
    if report.tags:
        attributes[CallAttribute.TAGS] = list(report.tags)
    if report.stored_data:
        attributes[CallAttribute.STORED_DATA] = dict(report.stored_data)
    if report.recording_urls:
        attributes[CallAttribute.RECORDINGS] = [
            {RecordingEntry.URL: url, RecordingEntry.STATUS: RecordingStatus.PENDING}
            for url in report.recording_urls
        ]
    _add_bookkeeping(attributes, report, raw=raw, received_at=received_at)
    return ReportItem(Table.CALLS, key, attributes)


def _campaign_item(report: CampaignReport, *, raw: str, received_at: str) -> ReportItem:
    key = {CampaignsTable.PARTITION_KEY: report.campaign_id}
    attributes = _present(report, key, _CAMPAIGN_ATTRIBUTES)
    attributes.update(report.stats)
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


ALWAYS_FITS_RAW_BYTES = 16 * 1024
"""A body this small always makes an item that fits: each element costs at least four bytes of
body and at most about 60 bytes of item (its tag as a key, plus its own text or a short
truncation note), so such an item stays under 16 times the body plus the fixed names."""


def check_item_size(item: ReportItem) -> None:
    if len(item.raw.encode("utf-8")) <= ALWAYS_FITS_RAW_BYTES:
        return
    size = item_size(item.attributes)
    if size > MAX_ITEM_BYTES:
        raise ReportRejected(
            RejectReason.TOO_LARGE,
            f"the report makes an item of about {size} bytes; "
            f"at most {MAX_ITEM_BYTES} can be stored",
        )


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
