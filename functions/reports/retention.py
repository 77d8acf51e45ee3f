"""How long a stored report lives: the `expiresAt` its item is written with (docs/contract.md,
`reportRetentionDays`). DynamoDB's TTL deletes an item some time after that second passes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.names import Item

DAY_SECONDS = 24 * 60 * 60


@dataclass(frozen=True, slots=True)
class Retention:
    days: int = 0
    """0 keeps items for ever (no `expiresAt` is written)."""

    @classmethod
    def from_setting(cls, text: str | None) -> Retention:
        """From the environment or a stack output: absent, empty or not a number keeps for ever."""
        try:
            return cls(max(int(str(text or "0").strip()), 0))
        except ValueError:
            return cls()

    def expires_at(self, received_at: object, now: Callable[[], float] = time.time) -> int | None:
        """Epoch seconds `days` after the report arrived (its `receivedAt`, so a replayed body
        keeps the age it has), or None when reports are kept for ever."""
        if self.days <= 0:
            return None
        try:
            start = datetime.fromisoformat(str(received_at)).timestamp()
        except ValueError:
            start = now()
        return int(start) + self.days * DAY_SECONDS

    def applied(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """`attributes` with `expiresAt` set, whatever format the report came in."""
        expiry = self.expires_at(attributes.get(Item.RECEIVED_AT))
        if expiry is None:
            return dict(attributes)
        return {**attributes, Item.EXPIRES_AT: expiry}
