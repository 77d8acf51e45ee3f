"""Receiving one v2 webhook delivery: check the signature, read the events, store each once, queue
recordings, keep the rest, and say what came of each.

The order is the postback function's promise, per event: nothing is kept for a missing or wrong
signature; after it, every event is on its item, in `events/`, or its delivery is archived
(`rejected/` for refused and conflicting events, `unstored/` when something could not be written)
before the answer; nothing is answered 2xx before every event of the delivery is durably kept. A
delivery half-stored (503) and sent again stores the rest: what was stored counts a delivery.

Time is part of that promise, as for postbacks: every outside call ends by the request's deadline,
and the work (the secret, each event) stops `archive_seconds` before it, so that a slow AWS or a
delivery of many events ends with its body in `unstored/` and a 503, not in a function timeout.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from aws_lambda_powertools import Logger

from functions.failures import (
    ArchiveUnavailable,
    NotificationUnavailable,
    QueueUnavailable,
    SecretUnavailable,
    StorageUnavailable,
)
from functions.names import SERVICE_NAME, Prefix
from functions.postback.body import as_bytes
from functions.postback.delivery import (
    JSON,
    DeliveryStore,
    EventOutcome,
    EventResult,
    delivery_links,
    read_webhook,
)
from functions.postback.ports import (
    AlarmNotifier,
    BodyArchive,
    EventArchive,
    RecordingQueue,
    ReportStore,
    SecretValue,
)
from functions.postback.service import CONFLICTING_DUPLICATE, INTERNAL_ERROR
from functions.postback.signature import signature_matches
from functions.recordings.jobs import jobs_for
from functions.reports import CallReport, RejectReason, ReportRejected
from functions.reports.smoke import is_smoke_delivery
from functions.reports.webhook_json import Delivery

logger = Logger(service=SERVICE_NAME)

_COPIES_RECORDINGS = (EventResult.STORED, EventResult.UPDATED)
"""A new item, or a newer version of a call (its entries that are already copied are skipped by
the recordings function), has its recordings queued."""
OUT_OF_TIME = "out_of_time"
"""The `reason` of a delivery archived in `unstored/` because its events could not all be stored
before the answer was due."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    body: bytes | str
    signature: str | None
    request_id: str
    received_at: datetime
    deadline: float
    """A `clock()` value (time.monotonic()) by which the service must be done, its archive
    included: the answer is on its way then."""
    content_encoding: str | None = None


class DeliveryStatus(StrEnum):
    ACCEPTED = "accepted"
    """Every event was stored, kept, or archived with its delivery."""
    FORBIDDEN = "forbidden"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    status: DeliveryStatus
    events: int = 0
    results: Counter[EventResult] = field(default_factory=Counter)
    reason: RejectReason | None = None
    detail: str = ""
    recordings_queued: int = 0
    recordings_unqueued: int = 0
    low_balance: int = 0
    smoke: bool = False
    """Sent by a smoke test (`make smoke`): not one of CallFire's deliveries."""


class WebhookService:
    def __init__(
        self,
        *,
        secret: SecretValue,
        store: ReportStore,
        archive: BodyArchive,
        events: EventArchive,
        queue: RecordingQueue,
        notifier: AlarmNotifier,
        max_body_bytes: int,
        archive_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`archive_seconds`: how long archiving a delivery may take (one attempt); the work
        before it stops that long before the request's deadline."""
        self._secret = secret
        self._delivery_store = DeliveryStore(store, events)
        self._archive = archive
        self._queue = queue
        self._notifier = notifier
        self._max_body_bytes = max_body_bytes
        self._archive_seconds = archive_seconds
        self._clock = clock

    def _work_deadline(self, request: WebhookRequest) -> float:
        return request.deadline - self._archive_seconds

    def receive(self, request: WebhookRequest) -> DeliveryOutcome:
        try:
            secret = self._secret.value(deadline=self._work_deadline(request))
        except SecretUnavailable as error:
            logger.error("webhook secret unreadable", extra={"error": error.code})
            return DeliveryOutcome(
                DeliveryStatus.UNAVAILABLE, detail="the signature cannot be checked right now"
            )
        if not secret:
            logger.error("the webhook secret is empty: every delivery is refused until it is set")
            return DeliveryOutcome(
                DeliveryStatus.UNAVAILABLE, detail="the signature cannot be checked right now"
            )
        if not signature_matches(secret, as_bytes(request.body), request.signature):
            return DeliveryOutcome(DeliveryStatus.FORBIDDEN, detail="missing or wrong signature")
        try:
            return self._receive_signed(request)
        except Exception:
            logger.exception("unexpected failure; keeping the delivery for replay")
            return self._archive_unstored(request, INTERNAL_ERROR, DeliveryStatus.FAILED)

    def _receive_signed(self, request: WebhookRequest) -> DeliveryOutcome:
        try:
            delivery = read_webhook(request.body, request.content_encoding, self._max_body_bytes)
        except ReportRejected as refusal:
            return self._refuse(request, refusal)
        logger.append_keys(webhookId=delivery.webhook_id, events=len(delivery.events))
        outcomes: list[EventOutcome] = []
        tally = _Tally(len(delivery.events))
        work = self._work_deadline(request)
        for event in delivery.events:
            if self._clock() >= work:
                logger.error("out of time; the rest waits for the delivery to be sent again")
                return self._archive_unstored(
                    request, OUT_OF_TIME, DeliveryStatus.UNAVAILABLE, delivery
                )
            try:
                outcome = self._delivery_store.store_event(
                    event, received_at=request.received_at, deadline=work
                )
                self._follow_up(outcome, tally, work)
            except (StorageUnavailable, ArchiveUnavailable, NotificationUnavailable) as error:
                logger.error("event not stored", extra={"error": error.code, "event": event.index})
                return self._archive_unstored(
                    request, error.code, DeliveryStatus.UNAVAILABLE, delivery
                )
            outcomes.append(outcome)
            tally.results[outcome.result] += 1
        tally.smoke = is_smoke_delivery(
            delivery.webhook_name, [event.content for event in delivery.events]
        )
        return self._answer(request, delivery, outcomes, tally)

    def _follow_up(self, outcome: EventOutcome, tally: _Tally, deadline: float) -> None:
        """What a stored event asks for next: its recordings queued, a low balance told."""
        if outcome.low_balance:
            self._notify_low_balance(outcome, deadline)
            tally.low_balance += 1
        report = outcome.report
        if outcome.result not in _COPIES_RECORDINGS or not isinstance(report, CallReport):
            return
        jobs = jobs_for(report)
        if not jobs:
            return
        try:
            self._queue.enqueue(jobs, deadline=deadline)
        except QueueUnavailable as error:
            logger.error(
                "report stored; recordings left PENDING, not queued",
                extra={"error": error.code, "recordings": len(jobs), "callId": report.call_id},
            )
            tally.recordings_unqueued += len(jobs)
            return
        tally.recordings_queued += len(jobs)

    def _notify_low_balance(self, outcome: EventOutcome, deadline: float) -> None:
        """Every delivery of a LowBalance event is told (CallFire stops dialing when the balance
        runs out): a delivery sent again after a failure here is told then."""
        other = outcome.other
        if other is None:
            return
        self._notifier.notify(
            f"CallFire: low balance ({other.event_type or 'event'})",
            "CallFire sent a LowBalance webhook event"
            + (f" ({other.event_type})" if other.event_type else "")
            + (f" from webhook {other.webhook_id}" if other.webhook_id else "")
            + ". CallFire stops dialing when the account's balance runs out: add funds in "
            f"CallFire. The event is kept in the receiver's bucket at {outcome.key}.",
            deadline=deadline,
        )
        logger.warning("low balance told", extra={"s3Key": outcome.key})

    def _answer(
        self,
        request: WebhookRequest,
        delivery: Delivery,
        outcomes: list[EventOutcome],
        tally: _Tally,
    ) -> DeliveryOutcome:
        kept_aside = [
            outcome
            for outcome in outcomes
            if outcome.result in (EventResult.REFUSED, EventResult.CONFLICT)
        ]
        if kept_aside:
            reason, detail = _why(kept_aside)
            try:
                self._keep(request, Prefix.REJECTED, reason, detail, delivery)
            except ArchiveUnavailable:
                return DeliveryOutcome(
                    DeliveryStatus.UNAVAILABLE, detail="the delivery cannot be archived"
                )
            logger.warning("delivery archived in rejected/", extra={"reason": reason})
        refused = tally.results[EventResult.REFUSED]
        if refused == tally.events:
            first = kept_aside[0]
            return DeliveryOutcome(
                DeliveryStatus.REJECTED,
                events=tally.events,
                results=tally.results,
                reason=RejectReason(first.reason),
                detail=detail,
            )
        logger.info("delivery received", extra={"results": dict(tally.results)})
        return DeliveryOutcome(
            DeliveryStatus.ACCEPTED,
            events=tally.events,
            results=tally.results,
            recordings_queued=tally.recordings_queued,
            recordings_unqueued=tally.recordings_unqueued,
            low_balance=tally.low_balance,
            smoke=tally.smoke,
        )

    def _refuse(self, request: WebhookRequest, refusal: ReportRejected) -> DeliveryOutcome:
        try:
            self._keep(request, Prefix.REJECTED, refusal.reason.value, refusal.detail)
        except ArchiveUnavailable:
            return DeliveryOutcome(
                DeliveryStatus.UNAVAILABLE, detail="the refused body cannot be archived"
            )
        logger.warning(
            "delivery refused", extra={"reason": refusal.reason.value, "detail": refusal.detail}
        )
        return DeliveryOutcome(
            DeliveryStatus.REJECTED, reason=refusal.reason, detail=refusal.detail
        )

    def _archive_unstored(
        self,
        request: WebhookRequest,
        cause: str,
        status: DeliveryStatus,
        delivery: Delivery | None = None,
    ) -> DeliveryOutcome:
        try:
            self._keep(
                request, Prefix.UNSTORED, cause, "the delivery could not be stored", delivery
            )
        except ArchiveUnavailable as error:
            logger.error("delivery neither stored nor archived", extra={"error": error.code})
        return DeliveryOutcome(status, detail="the delivery could not be stored; retry later")

    def _keep(
        self,
        request: WebhookRequest,
        prefix: str,
        reason: str,
        detail: str,
        delivery: Delivery | None = None,
    ) -> str:
        """`delivery`, when the body could be read, indexes the archived body for erasure."""
        return self._archive.keep(
            prefix,
            as_bytes(request.body),
            request_id=request.request_id,
            received_at=request.received_at,
            content_encoding=request.content_encoding,
            reason=reason,
            detail=detail,
            deadline=request.deadline,
            extension=JSON,
            links=delivery_links(delivery, request.received_at) if delivery else None,
        )


@dataclass
class _Tally:
    events: int
    results: Counter[EventResult] = field(default_factory=Counter)
    recordings_queued: int = 0
    recordings_unqueued: int = 0
    low_balance: int = 0
    smoke: bool = False


def _why(aside: list[EventOutcome]) -> tuple[str, str]:
    """The archive's reason (a conflict first, else the first refusal's) and a detail naming
    each event set aside."""
    conflict = any(outcome.result is EventResult.CONFLICT for outcome in aside)
    reason = CONFLICTING_DUPLICATE if conflict else aside[0].reason
    parts = [
        f"event {outcome.index}: "
        + (
            "a report with this key and different content is already stored"
            if outcome.result is EventResult.CONFLICT
            else outcome.detail
        )
        for outcome in aside
    ]
    detail = "; ".join(parts)
    return reason, detail if len(detail) <= 400 else detail[:399] + "…"
