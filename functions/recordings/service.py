"""Copying one recording: check what is done already, fetch, stream into S3, record it on the item.

Every step can be repeated: a message delivered twice (or retried after a failure half-way) finds
the entry COPIED, or the object already in the bucket, and creates neither a second object
(version) nor a second entry. Transient failures raise RetryLater for the queue to retry;
permanent ones mark the entry FAILED with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aws_lambda_powertools import Logger

from functions.names import SERVICE_NAME, RecordingEntry, RecordingStatus
from functions.recordings.jobs import RecordingJob
from functions.recordings.naming import (
    extension_for,
    recording_key,
    refusal_for_content_type,
    stored_content_type,
)
from functions.recordings.policy import redact_url
from functions.recordings.ports import (
    CannotCopy,
    RecordingEntries,
    RecordingSource,
    RecordingStore,
    StoredRecording,
)

logger = Logger(service=SERVICE_NAME)


class Result(StrEnum):
    COPIED = "copied"
    ALREADY_COPIED = "already_copied"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    stored: StoredRecording | None = None
    reason: str = ""


class RecordingCopier:
    def __init__(
        self, *, source: RecordingSource, store: RecordingStore, entries: RecordingEntries
    ) -> None:
        self._source = source
        self._store = store
        self._entries = entries

    def copy(self, job: RecordingJob, *, deadline: float) -> Outcome:
        """Raises RetryLater for a transient failure; everything else is an Outcome."""
        entry = self._entries.entry(job)
        if entry is None or entry.get(RecordingEntry.URL) != job.url:
            logger.warning("no such recording entry on the call item; nothing to copy")
            return Outcome(Result.SKIPPED, reason="the call item holds no such recording")
        if entry.get(RecordingEntry.STATUS) == RecordingStatus.COPIED:
            logger.info("recording already copied")
            return Outcome(Result.ALREADY_COPIED)
        try:
            return self._record(job, self._transfer(job, deadline), Result.COPIED)
        except CannotCopy as refusal:
            return self._fail(job, refusal.reason)

    def _transfer(self, job: RecordingJob, deadline: float) -> StoredRecording:
        with self._source.open(job.url, deadline=deadline) as download:
            refusal = refusal_for_content_type(download.content_type)
            if refusal is not None:
                raise CannotCopy(refusal)
            extension = extension_for(download.content_type, download.url)
            return self._store.put(
                recording_key(job, extension),
                download,
                content_type=stored_content_type(download.content_type, extension),
                source=job.url,
            )

    def _record(self, job: RecordingJob, stored: StoredRecording, result: Result) -> Outcome:
        if not self._entries.mark_copied(job, stored):
            logger.warning(
                "recording stored but its entry changed meanwhile", extra={"s3Key": stored.key}
            )
            return Outcome(Result.SKIPPED, stored, "the entry changed while copying")
        logger.info("recording copied", extra={"s3Key": stored.key, "bytes": stored.size})
        return Outcome(result, stored)

    def _fail(self, job: RecordingJob, reason: str) -> Outcome:
        marked = self._entries.mark_failed(job, reason)
        logger.warning(
            "recording not copied",
            extra={"reason": reason, "url": redact_url(job.url), "marked": marked},
        )
        return Outcome(Result.FAILED if marked else Result.SKIPPED, reason=reason)
