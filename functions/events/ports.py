"""What the events service needs from the outside: something that puts events on a bus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from functions.events.mapping import BusEvent


@dataclass(frozen=True, slots=True)
class NotPut:
    """Why one event was not put, and whether trying again may succeed (throttling, a service
    error) or cannot (an event the bus refuses, a missing permission)."""

    code: str
    retryable: bool


class EventPublisher(Protocol):
    def publish(self, events: Sequence[BusEvent], *, deadline: float) -> list[NotPut | None]:
        """Puts every event, each call ending by `deadline` (a time.monotonic() value); answers,
        in the same order, None for each event put and why for each one that was not. Never
        raises for a failure of the bus: it reports it per event."""
        ...
