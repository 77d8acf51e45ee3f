"""The format-neutral report model.

Every reader (the legacy postback XML today; API 1.1 notifications and v2 webhooks later) turns its
format into these types, and everything downstream (items, storage, recordings) only knows them.
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
    extra: Mapping[str, Any] = field(default_factory=dict)

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

    @property
    def kind(self) -> str:
        return "campaign"


Report = CallReport | CampaignReport
