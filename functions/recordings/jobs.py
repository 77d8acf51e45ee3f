"""A recording copy job: the queue message between the postback and recordings functions."""

from __future__ import annotations

import json
from dataclasses import dataclass

from functions.reports.items import ERROR_STATE
from functions.reports.model import CallReport


@dataclass(frozen=True, slots=True)
class RecordingJob:
    """Copy the recording at `url`, entry `index` of the call item's `recordings` list."""

    call_id: str
    event_type: str
    campaign_id: str | None
    index: int
    url: str

    def to_message(self) -> str:
        return json.dumps(
            {
                "callId": self.call_id,
                "eventType": self.event_type,
                "campaignId": self.campaign_id,
                "index": self.index,
                "url": self.url,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_message(cls, body: str) -> RecordingJob:
        data = json.loads(body)
        return cls(
            call_id=str(data["callId"]),
            event_type=str(data["eventType"]),
            campaign_id=None if data.get("campaignId") is None else str(data["campaignId"]),
            index=int(data["index"]),
            url=str(data["url"]),
        )


class MalformedJob(ValueError):
    """A queue message that is not a job; `str()` names what is wrong, never the body."""


def parse_job(body: str) -> RecordingJob:
    """The job in a queue message. Raises MalformedJob."""
    try:
        job = RecordingJob.from_message(body)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MalformedJob(type(error).__name__) from None
    if job.index < 0 or not job.call_id or not job.event_type or not job.url:
        raise MalformedJob("incomplete job")
    return job


def jobs_for(report: CallReport) -> list[RecordingJob]:
    """One job per recording to copy: every one but those CallFire reported in ERROR."""
    failed = {
        index
        for index, detail in enumerate(report.recording_details)
        if detail.state == ERROR_STATE
    }
    return [
        RecordingJob(report.call_id, report.event_type.value, report.campaign_id, index, url)
        for index, url in enumerate(report.recording_urls)
        if index not in failed
    ]
