"""Reports as the BRIEF's DynamoDB items (plain Python values; the adapter serialises them)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from functions.names import CallsTable, CampaignsTable, Item, RecordingStatus
from functions.reports.errors import RejectReason, ReportRejected
from functions.reports.model import CallReport, CampaignReport, Report

MAX_ITEM_BYTES = 380 * 1024
"""DynamoDB stores items of up to 400 KB; the rest is left for the recordings' copy details."""


class Table(StrEnum):
    CALLS = "calls"
    CAMPAIGNS = "campaigns"


@dataclass(frozen=True, slots=True)
class ReportItem:
    """One item to store: its table, its key and all of its attributes (key included)."""

    table: Table
    key: dict[str, str]
    attributes: dict[str, Any]

    @property
    def raw(self) -> str:
        text: str = self.attributes[Item.RAW]
        return text


def to_item(report: Report, *, raw: str, received_at: str) -> ReportItem:
    if isinstance(report, CallReport):
        return _call_item(report, raw=raw, received_at=received_at)
    return _campaign_item(report, raw=raw, received_at=received_at)


def _call_item(report: CallReport, *, raw: str, received_at: str) -> ReportItem:
    key = {CallsTable.PARTITION_KEY: report.call_id, CallsTable.SORT_KEY: report.event_type.value}
    attributes = _present(
        {
            **key,
            CallsTable.CAMPAIGN_ID: report.campaign_id,
            CallsTable.PHONE_NUMBER: report.phone_number,
            "dnis": report.dnis,
            "tags": list(report.tags),
            "disposition": report.disposition,
            "durationSeconds": report.duration_seconds,
            CallsTable.CALL_START: report.call_start,
            "responseTime": report.response_time,
            "notes": report.notes,
            "extraData": report.extra_data,
            "agentId": report.agent_id,
            "agentResponse": report.agent_response,
            "storedData": dict(report.stored_data),
            "smsSent": report.sms_sent,
            "smsReceived": report.sms_received,
            "replyFromCampaign": report.reply_from_campaign,
            CallsTable.RECORDINGS: [
                {"url": url, "status": RecordingStatus.PENDING} for url in report.recording_urls
            ],
            **_bookkeeping(report, raw=raw, received_at=received_at),
        }
    )
    return ReportItem(Table.CALLS, key, attributes)


def _campaign_item(report: CampaignReport, *, raw: str, received_at: str) -> ReportItem:
    key = {CampaignsTable.PARTITION_KEY: report.campaign_id}
    attributes = _present(
        {
            **key,
            "name": report.name,
            "status": report.status,
            "cost": report.cost,
            "currency": report.currency,
            "costRaw": report.cost_raw,
            **report.stats,
            **_bookkeeping(report, raw=raw, received_at=received_at),
        }
    )
    return ReportItem(Table.CAMPAIGNS, key, attributes)


def _bookkeeping(report: Report, *, raw: str, received_at: str) -> dict[str, Any]:
    return {
        Item.EXTRA: dict(report.extra),
        Item.RAW: raw,
        Item.RECEIVED_AT: received_at,
        Item.DELIVERIES: 1,
    }


def _present(attributes: dict[str, Any]) -> dict[str, Any]:
    """Absent values become absent attributes: no None, no empty list or map."""
    return {
        name: value
        for name, value in attributes.items()
        if value is not None and value not in ([], {})
    }


def check_item_size(item: ReportItem) -> None:
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
