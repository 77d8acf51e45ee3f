"""Copying one queued recording: check what is done already, fetch, stream into S3, record it on
the item; and when that cannot be done now, decide when the queue tries again.

Every step can be repeated: a message delivered twice (or retried after a failure half-way) finds
the entry COPIED, or the object already in the bucket, and creates neither a second object
(version) nor a second entry. Permanent failures mark the entry FAILED with the reason; transient
ones hide the message for a back-off that grows with each attempt, until the last attempt marks
the entry FAILED too and sends the message to the dead-letter queue.

Time: `handle` is given the moment its outcome must be known. The transfer (the entry read, the
download, the upload) must end `reserve_seconds` earlier, so that a copy cut short still has the
time to abort its upload, record its outcome on the item and hide the message for its back-off:
a hanging download or S3 ends as a retry, never as a function timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger

from functions.names import SERVICE_NAME, RecordingEntry, RecordingState, RecordingStatus
from functions.recordings.backoff import retry_delay
from functions.recordings.jobs import MalformedJob, RecordingJob, parse_job
from functions.recordings.naming import (
    extension_for,
    recording_key,
    refusal_for_content_type,
    stored_content_type,
)
from functions.recordings.policy import redact_url
from functions.recordings.ports import (
    CannotCopy,
    MessageVisibility,
    RecordingEntries,
    RecordingSource,
    RecordingStates,
    RecordingStore,
    RetryLater,
    StoredRecording,
)

logger = Logger(service=SERVICE_NAME)
_JOB_KEYS = ("callId", "eventType", "recording")


@dataclass(frozen=True, slots=True)
class QueuedJob:
    """A received queue message: its body, the handle to change its visibility, and how many
    times it has been received (this time included)."""

    body: str
    receipt_handle: str
    receive_count: int


class CopyResult(StrEnum):
    COPIED = "copied"
    ALREADY_COPIED = "already_copied"
    FAILED = "failed"
    SKIPPED = "skipped"
    RETRYING = "retrying"
    """Not done yet: the message is hidden for its back-off and comes back."""
    MALFORMED = "malformed"
    """Not a job: the message comes back at once and moves to the dead-letter queue."""


@dataclass(frozen=True, slots=True)
class CopyOutcome:
    result: CopyResult
    stored: StoredRecording | None = None
    reason: str = ""
    retry_in_seconds: int | None = None
    to_dead_letters: bool = False
    """The last attempt failed for a transient reason: the message comes back at once and moves
    to the dead-letter queue."""

    @property
    def returns_to_queue(self) -> bool:
        return self.to_dead_letters or self.result in (CopyResult.RETRYING, CopyResult.MALFORMED)


class RecordingCopier:
    def __init__(
        self,
        *,
        source: RecordingSource,
        store: RecordingStore,
        entries: RecordingEntries,
        visibility: MessageVisibility,
        max_receives: int,
        reserve_seconds: float = 0.0,
        states: RecordingStates | None = None,
        v2_recordings_url: str | None = None,
    ) -> None:
        """`v2_recordings_url` is CallFire's v2 recordings endpoint (`.../v2/calls/recordings`):
        a recording with an id (a v2 webhook's) is fetched from `{it}/{id}.mp3`, once `states`
        says it is READY."""
        self._source = source
        self._store = store
        self._entries = entries
        self._visibility = visibility
        self._max_receives = max_receives
        self._reserve_seconds = reserve_seconds
        self._states = states
        self._v2_recordings_url = v2_recordings_url

    def handle(self, message: QueuedJob, *, deadline: float) -> CopyOutcome:
        """The outcome of one message, known by `deadline` (a time.monotonic() value). Never
        raises: whatever goes wrong becomes a retry or a FAILED entry."""
        try:
            job = parse_job(message.body)
        except MalformedJob as error:
            logger.error(
                "malformed job; it goes to the dead-letter queue", extra={"error": str(error)}
            )
            self._visibility.hide(message.receipt_handle, 0, deadline=deadline)
            return CopyOutcome(CopyResult.MALFORMED, reason=str(error))
        logger.append_keys(callId=job.call_id, eventType=job.event_type, recording=job.index)
        try:
            return self.copy(job, deadline=deadline)
        except RetryLater as error:
            return self._retry_later(job, message, error.reason, error.retry_after, deadline)
        except Exception:
            logger.exception("unexpected failure copying a recording")
            return self._retry_later(job, message, "unexpected failure", None, deadline)
        finally:
            logger.remove_keys(list(_JOB_KEYS))

    def copy(self, job: RecordingJob, *, deadline: float) -> CopyOutcome:
        """Raises RetryLater for a transient failure; everything else is a CopyOutcome. The
        transfer ends `reserve_seconds` before `deadline`; its outcome is recorded by it."""
        transfer_deadline = deadline - self._reserve_seconds
        entry = self._entries.entry(job, deadline=transfer_deadline)
        if entry is None or entry.get(RecordingEntry.URL) != job.url:
            logger.warning("no such recording entry on the call item; nothing to copy")
            return CopyOutcome(CopyResult.SKIPPED, reason="the call item holds no such recording")
        if entry.get(RecordingEntry.STATUS) == RecordingStatus.COPIED:
            logger.info("recording already copied")
            return CopyOutcome(CopyResult.ALREADY_COPIED)
        try:
            stored = self._transfer(
                job, self._fetch_url(job, entry, transfer_deadline), transfer_deadline
            )
        except CannotCopy as refusal:
            return self._fail(job, refusal.reason, deadline)
        return self._record(job, stored, deadline)

    def _fetch_url(self, job: RecordingJob, entry: Mapping[str, Any], deadline: float) -> str:
        """Where the recording is fetched from: a v2 recording from CallFire's v2 endpoint by its
        id (its `mp3Url` may not be a download URL), when CallFire says it is READY; any other
        recording from its URL. Raises RetryLater (still RECORDING) or CannotCopy (ERROR)."""
        recording_id = entry.get(RecordingEntry.RECORDING_ID)
        if not recording_id or self._v2_recordings_url is None:
            return job.url
        if entry.get(RecordingEntry.RECORDING_STATE) != RecordingState.READY and self._states:
            state = self._states.state(str(recording_id), deadline=deadline)
            if state == RecordingState.RECORDING:
                raise RetryLater("CallFire is still recording it (state RECORDING)")
            if state == RecordingState.ERROR:
                raise CannotCopy("CallFire reports the recording's state as ERROR")
        return f"{self._v2_recordings_url}/{recording_id}.mp3"

    def _retry_later(
        self,
        job: RecordingJob,
        message: QueuedJob,
        reason: str,
        retry_after: float | None,
        deadline: float,
    ) -> CopyOutcome:
        if message.receive_count >= self._max_receives:
            return self._give_up(job, message, reason, deadline)
        delay = retry_delay(message.receive_count, self._max_receives, retry_after=retry_after)
        self._visibility.hide(message.receipt_handle, delay, deadline=deadline)
        logger.warning(
            "recording not copied yet; the queue retries it",
            extra={"reason": reason, "retryInSeconds": delay, "maxAttempts": self._max_receives},
        )
        return CopyOutcome(CopyResult.RETRYING, reason=reason, retry_in_seconds=delay)

    def _give_up(
        self, job: RecordingJob, message: QueuedJob, reason: str, deadline: float
    ) -> CopyOutcome:
        """The last attempt failed too: the entry becomes FAILED (unless it was copied
        meanwhile), and the message comes back at once, so that the queue moves it to the
        dead-letter queue and its alarm fires."""
        reason = f"not copied after {message.receive_count} attempts: {reason}"
        try:
            marked = self._entries.mark_failed(job, reason, deadline=deadline)
        except Exception:
            logger.exception("the entry could not be marked FAILED; it stays PENDING")
            marked = False
        self._visibility.hide(message.receipt_handle, 0, deadline=deadline)
        logger.error(
            "recording not copied after its last attempt; it goes to the dead-letter queue",
            extra={"reason": reason, "url": redact_url(job.url), "marked": marked},
        )
        result = CopyResult.FAILED if marked else CopyResult.RETRYING
        return CopyOutcome(result, reason=reason, retry_in_seconds=0, to_dead_letters=True)

    def _transfer(self, job: RecordingJob, url: str, deadline: float) -> StoredRecording:
        with self._source.open(url, deadline=deadline) as download:
            refusal = refusal_for_content_type(download.content_type)
            if refusal is not None:
                raise CannotCopy(refusal)
            extension = extension_for(download.content_type, download.url)
            return self._store.put(
                recording_key(job, extension),
                download,
                content_type=stored_content_type(download.content_type, extension),
                source=job.url,
                deadline=deadline,
            )

    def _record(self, job: RecordingJob, stored: StoredRecording, deadline: float) -> CopyOutcome:
        if not self._entries.mark_copied(job, stored, deadline=deadline):
            logger.warning(
                "recording stored but its entry changed meanwhile", extra={"s3Key": stored.key}
            )
            return CopyOutcome(CopyResult.SKIPPED, stored, "the entry changed while copying")
        logger.info("recording copied", extra={"s3Key": stored.key, "bytes": stored.size})
        return CopyOutcome(CopyResult.COPIED, stored)

    def _fail(self, job: RecordingJob, reason: str, deadline: float) -> CopyOutcome:
        marked = self._entries.mark_failed(job, reason, deadline=deadline)
        logger.warning(
            "recording not copied",
            extra={"reason": reason, "url": redact_url(job.url), "marked": marked},
        )
        return CopyOutcome(CopyResult.FAILED if marked else CopyResult.SKIPPED, reason=reason)
