"""boto3 clients, made on first use with timeouts that keep an answer to CallFire fast."""

from __future__ import annotations

from functools import cache
from typing import Any

_CONFIG = {
    "connect_timeout": 2,
    "read_timeout": 5,
    "retries": {"mode": "standard", "total_max_attempts": 3},
}


@cache
def aws_client(service: str) -> Any:
    from botocore.config import Config

    return _session().client(service, config=Config(**_CONFIG))


@cache
def _session() -> Any:
    """One session for every client: a session loads endpoint and partition data once."""
    import boto3

    return boto3.session.Session()


class LazyClient:
    """Stands for `aws_client(service)` and creates it on first use, so a cold start pays only for
    the clients its first request needs."""

    def __init__(self, service: str) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(aws_client(self._service), name)


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore error (or the exception's class name), never its message."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__
