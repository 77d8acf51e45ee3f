"""How long a message that failed for a transient reason stays hidden before its next attempt."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

FIRST_DELAY_SECONDS = 60
GROWTH = 4
MAX_DELAY_SECONDS = 3600
JITTER = 0.2
"""Up to this share of a delay is taken off at random, so that messages that failed together
(CallFire down for a while) do not all come back in the same second."""
MAX_VISIBILITY_SECONDS = 12 * 3600
"""SQS refuses a longer visibility timeout."""


def retry_delay(
    receive_count: int,
    max_receives: int,
    *,
    retry_after: float | None = None,
    jitter: Callable[[], float] = random.random,
) -> int:
    """Seconds until the next attempt after attempt `receive_count` failed: 60 s, 4 min, 16 min,
    then an hour; at least the server's `Retry-After`. Zero after the last attempt, so that the
    next receive moves the message to the dead-letter queue (and its alarm) without waiting."""
    if receive_count >= max_receives:
        return 0
    attempt = max(receive_count, 1)
    delay = min(FIRST_DELAY_SECONDS * GROWTH ** (attempt - 1), MAX_DELAY_SECONDS)
    delay -= int(delay * JITTER * jitter())
    if retry_after is not None and retry_after > 0:
        delay = max(delay, math.ceil(retry_after))
    return int(min(delay, MAX_VISIBILITY_SECONDS))
