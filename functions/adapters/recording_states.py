"""CallFire's current state of a v2 recording: `GET {v2}/calls/recordings/{id}` (JSON), through the
same safe fetcher as the recordings themselves (policy, checked addresses, credentials for
CallFire hosts only)."""

from __future__ import annotations

import json
from urllib.parse import quote

from functions.recordings.ports import RecordingSource, RetryLater

MAX_ANSWER_BYTES = 64 * 1024


class CallfireRecordingStates:
    def __init__(self, source: RecordingSource, recordings_url: str) -> None:
        self._source = source
        self._recordings_url = recordings_url.rstrip("/")

    def state(self, recording_id: str, *, deadline: float) -> str | None:
        url = f"{self._recordings_url}/{quote(recording_id, safe='')}"
        with self._source.open(url, deadline=deadline) as answer:
            buffer = bytearray(MAX_ANSWER_BYTES + 1)
            view = memoryview(buffer)
            size = 0
            while size <= MAX_ANSWER_BYTES and (count := answer.readinto(view[size:])):
                size += count
            view.release()
        if size > MAX_ANSWER_BYTES:
            raise RetryLater("CallFire's answer about the recording is too long")
        try:
            value = json.loads(bytes(buffer[:size]))
        except ValueError:
            raise RetryLater("CallFire's answer about the recording is not JSON") from None
        state = value.get("state") if isinstance(value, dict) else None
        return state if isinstance(state, str) else None
