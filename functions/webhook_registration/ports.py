"""What managing the stack's webhooks needs from the outside world: CallFire's v2 webhooks API, and
secrets read by ARN."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class CallfireUnavailable(Exception):
    """CallFire could not be reached or answered a transient failure (timeout, 5xx, 429).
    The message holds no secret."""


class CallfireRefused(Exception):
    """CallFire answered the request with a permanent failure (4xx, an unreadable answer).
    The message holds no secret."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class CallfireWebhooks(Protocol):
    def find(self, name: str) -> list[Mapping[str, Any]]:
        """Every webhook named exactly `name` (all pages). Raises CallfireUnavailable or
        CallfireRefused."""
        ...

    def create(self, body: Mapping[str, Any]) -> int:
        """The new webhook's id."""
        ...

    def update(self, webhook_id: int, body: Mapping[str, Any]) -> None: ...

    def delete(self, webhook_id: int) -> None:
        """A webhook already gone is not a failure."""
        ...


class SecretSource(Protocol):
    def secret_string(self, secret_arn: str, *, deadline: float) -> str:
        """The secret's current string value, read by `deadline`. Raises SecretUnavailable."""
        ...
