"""Faults injected where they would really happen: the functions' own boto3 clients (every timeout
tier's client of `functions.adapters.aws.aws_service` in this process) raise the error AWS would
answer, before any request leaves. Used by the tests and by the reliability report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws import aws_service


@contextmanager
def _hooked(service: str, operation: str, hook: Callable[..., None]) -> Iterator[None]:
    """`hook` runs before each `operation` call of the functions' `service` clients."""
    clients = aws_service(service).clients()
    event = f"before-call.{clients[0].meta.service_model.service_id.hyphenize()}.{operation}"
    unique_id = f"{hook.__name__}-{service}-{operation}"
    for client in clients:
        client.meta.events.register(event, hook, unique_id=unique_id)
    try:
        yield
    finally:
        for client in clients:
            client.meta.events.unregister(event, unique_id=unique_id)


@contextmanager
def failing(service: str, operation: str, code: str = "ServiceUnavailable") -> Iterator[list[str]]:
    """`operation` on the functions' `service` client fails with AWS error `code` (as a botocore
    ClientError) while the block runs. Yields the calls that failed."""
    calls: list[str] = []

    def fail(**_: Any) -> None:
        calls.append(operation)
        raise ClientError(
            {
                "Error": {"Code": code, "Message": "injected fault"},
                "ResponseMetadata": {"HTTPStatusCode": 503},
            },
            operation,
        )

    with _hooked(service, operation, fail):
        yield calls


@contextmanager
def counting(service: str, operation: str) -> Iterator[list[str]]:
    """Counts the calls of `operation` the functions make while the block runs."""
    calls: list[str] = []

    def count(**_: Any) -> None:
        calls.append(operation)

    with _hooked(service, operation, count):
        yield calls
