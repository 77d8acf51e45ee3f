"""What the recordings service needs from the outside world, and the two ways a copy can fail.
Deadlines are time.monotonic() values each call must end by."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

from functions.recordings.jobs import RecordingJob


class RetryLater(Exception):
    """A transient failure (timeout, 5xx, 429, AWS unavailable): the message goes back to the
    queue and is tried again later. `reason` is safe to log; `retry_after` is the server's wish."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class CannotCopy(Exception):
    """A permanent failure (404, 403, host not allowed, too large): the recording is marked
    FAILED with `reason`, which is safe to log and to store, and the message is done."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StoredRecording:
    key: str
    content_type: str
    size: int


class Readable(Protocol):
    def readinto(self, buffer: memoryview) -> int:
        """Fill the start of `buffer`; the number of bytes, 0 at the end. Raises RetryLater or
        CannotCopy."""
        ...


class Download(Readable, Protocol):
    url: str
    """Where the body comes from, after redirects (never with the API key)."""
    content_type: str | None

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class RecordingSource(Protocol):
    def open(self, url: str, *, deadline: float) -> Download:
        """The answer to GET `url`, headers read, body not yet. `deadline` is a time.monotonic()
        value the whole transfer must finish by. Raises RetryLater or CannotCopy."""
        ...


class RecordingStore(Protocol):
    def put(
        self, key: str, body: Readable, *, content_type: str, source: str, deadline: float
    ) -> StoredRecording:
        """Stream `body` to `key` unless an object is there already: then that one, when it came
        from `source` (an earlier attempt that could not update the item). Raises RetryLater, or
        CannotCopy (when `body` does, or a recording from elsewhere holds the key). An upload cut
        short leaves no object."""
        ...


class RecordingEntries(Protocol):
    def entry(self, job: RecordingJob, *, deadline: float) -> Mapping[str, Any] | None:
        """The job's entry in its call item's `recordings` list; None when there is none.
        Raises RetryLater."""
        ...

    def mark_copied(self, job: RecordingJob, stored: StoredRecording, *, deadline: float) -> bool:
        """Set the entry COPIED with the object's key, type and size; False when the entry is not
        there (any more) with the job's URL. Raises RetryLater."""
        ...

    def mark_failed(self, job: RecordingJob, reason: str, *, deadline: float) -> bool:
        """Set the entry FAILED with `reason`, unless it is COPIED; False when nothing was
        changed. Raises RetryLater."""
        ...


class MessageVisibility(Protocol):
    def hide(self, receipt_handle: str, seconds: int, *, deadline: float) -> None:
        """Keep the received message hidden for `seconds` from now (best effort)."""
        ...


class RecordingStates(Protocol):
    def state(self, recording_id: str, *, deadline: float) -> str | None:
        """CallFire's current state of a v2 recording (`RECORDING`, `READY`, `ERROR`; None when
        its answer names none). Raises RetryLater or CannotCopy."""
        ...
