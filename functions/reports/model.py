"""The format-neutral report model.

Every reader (the legacy postback XML, the v2 webhook JSON; API 1.1 notifications later) turns its
format into these types, and everything downstream (items, storage, recordings) only knows them.
What only one generation sends is an optional field the other leaves empty; a v2 report also says
where it came from (`origin`).
They are values: nothing changes a report once read (they are not frozen only because a frozen
dataclass costs several microseconds more to build, on the hot path of every postback).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    CALL = "call"
    TEXT_SENT = "text-sent"
    TEXT_REPLY = "text-reply"


@dataclass(slots=True)
class WebhookOrigin:
    """Where a v2 webhook report came from: its webhook, its event and the resource's version.
    Times are ISO 8601 UTC (`2016-07-26T13:33:50.377Z`); None when the delivery left them out."""

    resource_type: str
    event_type: str
    webhook_id: str | None = None
    event_timestamp: str | None = None
    resource_modified: str | None = None


@dataclass(slots=True)
class RecordingDetail:
    """What a v2 report says of one recording besides its URL: CallFire's recording id and state
    (`RECORDING`, `READY`, `ERROR`) when the delivery was made."""

    recording_id: str | None = None
    state: str | None = None


@dataclass(slots=True)
class CallReport:
    """A call, a text sent or a text reply. Absent values are None (or empty)."""

    call_id: str
    event_type: EventType
    campaign_id: str | None = None
    phone_number: str | None = None
    dnis: str | None = None
    tags: tuple[str, ...] = ()
    disposition: str | None = None
    duration_seconds: int | Decimal | None = None
    call_start: str | None = None
    response_time: str | None = None
    notes: str | None = None
    extra_data: str | None = None
    agent_id: str | None = None
    agent_response: str | None = None
    stored_data: Mapping[str, str] = field(default_factory=dict)
    sms_sent: str | None = None
    sms_received: str | None = None
    reply_from_campaign: str | None = None
    recording_urls: tuple[str, ...] = ()
    recording_details: tuple[RecordingDetail, ...] = ()
    """v2 only: one per entry of `recording_urls`, in the same order."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    batch_id: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    inbound: bool | None = None
    state: str | None = None
    finish_time: str | None = None
    billed_amount: int | Decimal | None = None
    contact: Mapping[str, Any] | None = None
    records: tuple[Any, ...] = ()
    media: tuple[Any, ...] | None = None
    origin: WebhookOrigin | None = None

    @property
    def kind(self) -> str:
        return self.event_type.value


@dataclass(slots=True)
class CampaignReport:
    """A campaign that finished, with its statistics."""

    campaign_id: str
    name: str | None = None
    status: str | None = None
    cost: Decimal | None = None
    currency: str | None = None
    cost_raw: str | None = None
    stats: Mapping[str, int] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    campaign_type: str | None = None
    from_number: str | None = None
    tags: tuple[str, ...] = ()
    events: Mapping[str, str] = field(default_factory=dict)
    """v2 only: the event (`Started`, `Stopped`, `Finished`) and when it happened (ISO UTC)."""
    origin: WebhookOrigin | None = None

    @property
    def kind(self) -> str:
        return "campaign"


Report = CallReport | CampaignReport
