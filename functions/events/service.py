"""The events function's rule: every record of a batch becomes its events on the bus, or the batch
says where the stream must start again. Nothing is dropped: a record whose events were not all put
is handed back (with every record after it), and Lambda retries it, bisects the batch around a
poison record, and finally names the records in the dead-letter queue.

- Throttled or failed entries are put again, with exponential back-off and jitter, while the
  invocation's retry budget lasts; EventBridge reports them per entry (`FailedEntryCount`), and
  they are never taken for put.
- The answer names the first record not fully put (Lambda checkpoints there and retries the rest:
  "Configuring partial batch response with DynamoDB and Lambda", Lambda Developer Guide).
- When that first record is the batch's first and its failure cannot pass by retrying (a record
  that cannot be read, an event the bus refuses), the batch fails as a whole
  (`PoisonRecord`): Lambda then splits it (`BisectBatchOnFunctionError`) until the poison record
  is alone, and sends it alone to the dead-letter queue once its retries are spent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from functions.events.mapping import BusEvent, EventRules, events_for
from functions.events.ports import EventPublisher, NotPut
from functions.events.stream import UnreadableRecord, read_change, sequence_number
from functions.names import SERVICE_NAME

logger = Logger(service=SERVICE_NAME)

FIRST_PAUSE_SECONDS = 0.1
LONGEST_PAUSE_SECONDS = 5.0


class PoisonRecord(Exception):
    """The batch's first record can never be published as it is; raised so that Lambda bisects."""


@dataclass
class BatchOutcome:
    published: int = 0
    not_published: int = 0
    trimmed: int = 0
    retried: int = 0
    failed_from: str | None = None
    """The sequence number of the first record not fully published (None: all were)."""
    codes: dict[str, int] = field(default_factory=dict)

    def batch_response(self) -> dict[str, Any]:
        failures = [{"itemIdentifier": self.failed_from}] if self.failed_from else []
        return {"batchItemFailures": failures}


@dataclass(frozen=True)
class _Planned:
    record: int
    event: BusEvent


class EventsService:
    def __init__(
        self,
        publisher: EventPublisher,
        rules: EventRules,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._publisher = publisher
        self._rules = rules
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter

    def handle(
        self, records: Sequence[Mapping[str, Any]], *, retry_until: float, deadline: float
    ) -> BatchOutcome:
        """Publishes the events of `records` (a stream batch, in order); starts no new attempt
        after `retry_until`, and no call runs past `deadline` (time.monotonic() values). Raises
        PoisonRecord (see the module's description)."""
        outcome = BatchOutcome()
        planned, unreadable = self._plan(records)
        outcome.trimmed = sum(1 for step in planned if step.event.left_out)
        failures = self._publish(planned, outcome, retry_until, deadline)
        failed_records: dict[int, NotPut] = {}
        for index, reason in failures.items():
            record = planned[index].record
            if record not in failed_records or not reason.retryable:
                failed_records[record] = reason
        if unreadable is not None:
            failed_records.setdefault(unreadable, NotPut("UnreadableRecord", retryable=False))
        if not failed_records:
            return outcome
        first = min(failed_records)
        reason = failed_records[first]
        outcome.not_published = len(failures)
        outcome.codes = _count_codes(failures.values())
        if first == 0 and not reason.retryable:
            logger.error(
                "a record cannot be published; failing the batch so that Lambda isolates it",
                extra={"sequenceNumber": sequence_number(records[0]), "code": reason.code},
            )
            raise PoisonRecord(reason.code)
        outcome.failed_from = sequence_number(records[first])
        logger.warning(
            "events not published; the stream retries from this record",
            extra={"sequenceNumber": outcome.failed_from, "codes": outcome.codes},
        )
        return outcome

    def _plan(self, records: Sequence[Mapping[str, Any]]) -> tuple[list[_Planned], int | None]:
        """Every event of every record up to the first that cannot be read (its index)."""
        planned: list[_Planned] = []
        for index, record in enumerate(records):
            try:
                events = events_for(read_change(record), self._rules)
            except UnreadableRecord as error:
                logger.error(
                    "a stream record cannot be read",
                    extra={"sequenceNumber": sequence_number(record), "error": str(error)},
                )
                return planned, index
            planned.extend(_Planned(index, event) for event in events)
        return planned, None

    def _publish(
        self, planned: list[_Planned], outcome: BatchOutcome, retry_until: float, deadline: float
    ) -> dict[int, NotPut]:
        """Puts every planned event; answers those still not put, by position."""
        pending = list(range(len(planned)))
        failures: dict[int, NotPut] = {}
        attempt = 0
        while pending:
            answers = self._publisher.publish(
                [planned[index].event for index in pending], deadline=deadline
            )
            for index, answer in zip(pending, answers, strict=True):
                if answer is None:
                    failures.pop(index, None)
                    outcome.published += 1
                else:
                    failures[index] = answer
            pending = [index for index in pending if (f := failures.get(index)) and f.retryable]
            if not pending:
                break
            pause = self._pause(attempt)
            if self._clock() + pause > retry_until:
                break
            self._sleep(pause)
            outcome.retried += len(pending)
            attempt += 1
        return failures

    def _pause(self, attempt: int) -> float:
        """Exponential back-off with jitter: half the step fixed, half random."""
        step = min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2**attempt)
        return step / 2 + step / 2 * self._jitter()


def _count_codes(reasons: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason.code] = counts.get(reason.code, 0) + 1
    return counts
