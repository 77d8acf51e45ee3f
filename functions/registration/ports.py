"""What the registration service needs from the outside world, and how that can fail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class SecretSource(Protocol):
    def secret_string(self, secret_arn: str, *, deadline: float) -> str:
        """The secret's current string value, read by `deadline` (a time.monotonic() value).
        Raises SecretUnavailable."""
        ...


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class Failure(StrEnum):
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    TLS = "tls"


class NoAnswer(Exception):
    """The request got no HTTP answer. `detail` describes the failure without request data."""

    def __init__(self, failure: Failure, detail: str) -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail


class FormPoster(Protocol):
    def post_form(self, url: str, form: bytes, *, timeout: float) -> HttpAnswer:
        """POST the url-encoded `form` to `url`; the answer, whatever its status (redirects are
        not followed). Raises NoAnswer."""
        ...


class StatusRecorder(Protocol):
    def record(self, record: Mapping[str, Any], *, deadline: float) -> None:
        """Keep the registration's last result where `make status` reads it. Raises
        StatusUnavailable."""
        ...
