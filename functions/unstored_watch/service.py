"""How long the oldest body in `unstored/` has been waiting for replay.

Bodies answered 503 or 500 wait under `unstored/` until someone replays them, and never expire
by age. Replayed bodies stay where they are, tagged `replayed`, so the age that matters is that of
the oldest body without the tag. Listing is cheap and tags cost a request each: bodies are checked
oldest first, only until the first one still waiting, and at most `max_checks` per run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from functions.unstored_watch.ports import ArchivedBody, UnstoredBodies

MAX_TAG_CHECKS = 500


@dataclass(frozen=True, slots=True)
class Finding:
    oldest_age_seconds: int
    """0 when no body waits."""
    oldest_key: str | None
    checked: int
    """How many bodies' tags were read."""
    undecided: bool = False
    """More replayed bodies than `max_checks` are older than any decided one: the age given is
    that of the first body left unchecked, which may have been replayed too."""


class UnstoredWatch:
    def __init__(
        self,
        bodies: UnstoredBodies,
        *,
        max_checks: int = MAX_TAG_CHECKS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._bodies = bodies
        self._max_checks = max_checks
        self._clock = clock

    def oldest_waiting(self, *, deadline: float) -> Finding:
        """Raises ArchiveUnavailable when the bucket cannot be read in time."""
        now = self._clock()
        ordered = sorted(self._bodies.listing(deadline=deadline), key=lambda body: body.arrived)
        for checked, body in enumerate(ordered):
            if checked >= self._max_checks:
                return Finding(_age(body, now), body.key, checked, undecided=True)
            if not self._bodies.replayed(body.key, deadline=deadline):
                return Finding(_age(body, now), body.key, checked + 1)
        return Finding(0, None, len(ordered))


def _age(body: ArchivedBody, now: datetime) -> int:
    return max(int((now - body.arrived).total_seconds()), 0)
