"""EventBridge behind the events service's publisher port: PutEvents in requests of at most 10
entries and less than 256 KB, and every entry's outcome read from the answer.

PutEvents answers 200 even when some entries failed: `FailedEntryCount` counts them, and each
failed entry carries an `ErrorCode` at its own position. `InternalFailure` and
`ThrottlingException` may pass on retrying; the others (`AccessDeniedException`,
`MalformedDetail`, `InvalidArgument`, ...) will not ("PutEventsResultEntry", EventBridge API
Reference; "Handling failures when using PutEvents", EventBridge User Guide).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code, is_retryable
from functions.events.mapping import MAX_EVENT_BYTES, BusEvent, entry_size
from functions.events.ports import NotPut

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = MAX_EVENT_BYTES
"""A request's entries together must stay under 256 KB as well, counted the same way."""
RETRYABLE_ENTRY_CODES = frozenset({"InternalFailure", "ThrottlingException"})


class EventBridgePublisher:
    def __init__(self, events: AwsService, event_bus: str, source: str) -> None:
        self._events = events
        self._event_bus = event_bus
        self._source = source

    def publish(self, events: Sequence[BusEvent], *, deadline: float) -> list[NotPut | None]:
        answers: list[NotPut | None] = []
        for request in self._requests(events):
            answers.extend(self._put(request, deadline))
        return answers

    def _requests(self, events: Sequence[BusEvent]) -> Iterator[list[BusEvent]]:
        request: list[BusEvent] = []
        size = 0
        for event in events:
            event_size = entry_size(event, self._source)
            if request and (len(request) == MAX_ENTRIES or size + event_size > MAX_REQUEST_BYTES):
                yield request
                request, size = [], 0
            request.append(event)
            size += event_size
        if request:
            yield request

    def _put(self, request: list[BusEvent], deadline: float) -> list[NotPut | None]:
        """The request's entries, each put or not. A request that fails as a whole (after the
        attempts its deadline allows) fails every entry, retryably when AWS's answer says so
        or when no answer came (a timeout, no time left: OutOfTime)."""
        try:
            answer = self._events.call(
                "put_events", deadline, Entries=[self._entry(event) for event in request]
            )
        except ClientError as error:
            return [NotPut(error_code(error), is_retryable(error))] * len(request)
        except BotoCoreError as error:
            return [NotPut(error_code(error), retryable=True)] * len(request)
        entries = answer.get("Entries", [])
        if len(entries) != len(request):
            return [NotPut("UnexpectedAnswer", retryable=True)] * len(request)
        return [_outcome(entry) for entry in entries]

    def _entry(self, event: BusEvent) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "EventBusName": self._event_bus,  # not a names.py name: a PutEvents parameter
            "Source": self._source,
            "DetailType": event.detail_type,
            "Detail": event.detail,
            "Resources": list(event.resources),
        }
        if event.time is not None:
            entry["Time"] = event.time
        return entry


def _outcome(entry: dict[str, Any]) -> NotPut | None:
    code = entry.get("ErrorCode")
    if not code and entry.get("EventId"):
        return None
    code = str(code or "NoEventId")
    return NotPut(code, retryable=code in RETRYABLE_ENTRY_CODES or code == "NoEventId")
