"""Receiving one postback: authenticate, read, store once, queue recordings, keep what is refused.

The order is the product's promise: nothing is stored for a wrong token; everything after the token
check is either stored on its item or archived in S3 before the answer; nothing is answered 2xx
before the item is stored.

Time is part of that promise: every outside call ends by the invocation's deadline, and the work
before the archive stops early enough to leave it time (`archive_seconds`), so that a slow
DynamoDB ends in `unstored/` and a 503 rather than in a function timeout that keeps nothing.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aws_lambda_powertools import Logger

from functions.failures import (
    ArchiveUnavailable,
    QueueUnavailable,
    SecretUnavailable,
    StorageUnavailable,
)
from functions.names import SERVICE_NAME, Prefix
from functions.postback.body import as_bytes, read_postback
from functions.postback.ports import BodyArchive, RecordingQueue, ReportStore, SecretValue
from functions.postback.store_once import Stored, store_once
from functions.recordings.jobs import jobs_for
from functions.reports import CallReport, RejectReason, Report, ReportRejected
from functions.reports.items import ReportItem
from functions.reports.links import links_of

logger = Logger(service=SERVICE_NAME)

CONFLICTING_DUPLICATE = "conflicting_duplicate"
INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True, slots=True)
class Postback:
    body: bytes | str
    token: str | None
    request_id: str
    received_at: datetime
    content_encoding: str | None = None


class Status(StrEnum):
    STORED = "stored"
    UPDATED = "updated"
    """Joined the item another report of the same campaign made (section 3 of the contract)."""
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    FORBIDDEN = "forbidden"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    report: Report | None = None
    reason: RejectReason | None = None
    detail: str = ""
    recordings_queued: int = 0
    recordings_unqueued: int = 0


class PostbackService:
    def __init__(
        self,
        *,
        token: SecretValue,
        store: ReportStore,
        archive: BodyArchive,
        queue: RecordingQueue,
        max_body_bytes: int,
        archive_seconds: float,
    ) -> None:
        """`archive_seconds`: how long archiving a body may take (one attempt); the work before
        it stops that long before the deadline."""
        self._token = token
        self._store = store
        self._archive = archive
        self._queue = queue
        self._max_body_bytes = max_body_bytes
        self._archive_seconds = archive_seconds

    def receive(self, postback: Postback, *, deadline: float) -> Outcome:
        """The outcome, known by `deadline` (a time.monotonic() value)."""
        deadlines = _Deadlines(archive=deadline, work=deadline - self._archive_seconds)
        try:
            if not self._token_matches(postback.token, deadlines.work):
                return Outcome(Status.FORBIDDEN, detail="missing or wrong token")
        except SecretUnavailable as error:
            logger.error("postback token unreadable", extra={"error": error.code})
            return Outcome(Status.UNAVAILABLE, detail="the token cannot be checked right now")
        try:
            return self._receive_authenticated(postback, deadlines)
        except Exception:
            logger.exception("unexpected failure; keeping the body for replay")
            return self._archive_unstored(postback, INTERNAL_ERROR, Status.FAILED, deadlines)

    def _token_matches(self, presented: str | None, deadline: float) -> bool:
        if not presented:
            return False
        expected = self._token.value(deadline=deadline)
        return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))

    def _receive_authenticated(self, postback: Postback, deadlines: _Deadlines) -> Outcome:
        try:
            report, item = read_postback(
                postback.body, postback.content_encoding, postback.received_at, self._max_body_bytes
            )
        except ReportRejected as refusal:
            return self._refuse(postback, refusal, deadlines)
        logger.append_keys(**{"kind": report.kind, "campaignId": report.campaign_id, **item.key})
        return self._store_once(postback, report, item, deadlines)

    def _refuse(
        self, postback: Postback, refusal: ReportRejected, deadlines: _Deadlines
    ) -> Outcome:
        try:
            self._keep(postback, Prefix.REJECTED, refusal.reason.value, refusal.detail, deadlines)
        except ArchiveUnavailable:
            return Outcome(Status.UNAVAILABLE, detail="the refused body cannot be archived")
        logger.warning(
            "body refused", extra={"reason": refusal.reason.value, "detail": refusal.detail}
        )
        return Outcome(Status.REJECTED, reason=refusal.reason, detail=refusal.detail)

    def _store_once(
        self, postback: Postback, report: Report, item: ReportItem, deadlines: _Deadlines
    ) -> Outcome:
        try:
            stored = store_once(self._store, item, deadline=deadlines.work)
        except StorageUnavailable as error:
            logger.error("report not stored", extra={"error": error.code})
            return self._archive_unstored(
                postback, error.code, Status.UNAVAILABLE, deadlines, report=report, item=item
            )
        if stored is Stored.NEW:
            return self._queue_recordings(report, deadlines.work)
        if stored is Stored.UPDATED:
            logger.info("report merged into the stored item")
            return Outcome(Status.UPDATED, report)
        if stored is Stored.CONFLICT:
            return self._keep_conflict(postback, report, item, deadlines)
        logger.info("duplicate report")
        return Outcome(Status.DUPLICATE, report)

    def _queue_recordings(self, report: Report, deadline: float) -> Outcome:
        jobs = jobs_for(report) if isinstance(report, CallReport) else []
        if not jobs:
            logger.info("report stored")
            return Outcome(Status.STORED, report)
        try:
            self._queue.enqueue(jobs, deadline=deadline)
        except QueueUnavailable as error:
            logger.error(
                "report stored; recordings left PENDING, not queued",
                extra={"error": error.code, "recordings": len(jobs)},
            )
            return Outcome(Status.STORED, report, recordings_unqueued=len(jobs))
        logger.info("report stored", extra={"recordings": len(jobs)})
        return Outcome(Status.STORED, report, recordings_queued=len(jobs))

    def _keep_conflict(
        self, postback: Postback, report: Report, item: ReportItem, deadlines: _Deadlines
    ) -> Outcome:
        detail = "a report with this key and different content is already stored"
        try:
            self._keep(
                postback, Prefix.REJECTED, CONFLICTING_DUPLICATE, detail, deadlines, item=item
            )
        except ArchiveUnavailable:
            return Outcome(Status.UNAVAILABLE, report, detail="the body cannot be archived")
        logger.warning("conflicting report archived; the stored item is unchanged")
        return Outcome(Status.CONFLICT, report, detail=detail)

    def _archive_unstored(
        self,
        postback: Postback,
        cause: str,
        status: Status,
        deadlines: _Deadlines,
        *,
        report: Report | None = None,
        item: ReportItem | None = None,
    ) -> Outcome:
        try:
            self._keep(
                postback,
                Prefix.UNSTORED,
                cause,
                "the report could not be stored",
                deadlines,
                item=item,
            )
        except ArchiveUnavailable as error:
            logger.error("body neither stored nor archived", extra={"error": error.code})
        return Outcome(status, report, detail="the report could not be stored; retry later")

    def _keep(
        self,
        postback: Postback,
        prefix: str,
        reason: str,
        detail: str,
        deadlines: _Deadlines,
        *,
        item: ReportItem | None = None,
    ) -> str:
        """`item`, when the report could be read, indexes the archived body for erasure."""
        return self._archive.keep(
            prefix,
            as_bytes(postback.body),
            request_id=postback.request_id,
            received_at=postback.received_at,
            content_encoding=postback.content_encoding,
            reason=reason,
            detail=detail,
            deadline=deadlines.archive,
            links=links_of(item) if item is not None else None,
        )


@dataclass(frozen=True, slots=True)
class _Deadlines:
    """One request's two deadlines (time.monotonic() values): the work (token, item, recordings)
    ends by `work`; archiving a body, the last thing done, by `archive`."""

    archive: float
    work: float
