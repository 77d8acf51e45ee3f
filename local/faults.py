"""Faults injected where they would really happen: the functions' own boto3 clients (the ones
`functions.adapters.aws.aws_client` made in this process) raise the error AWS would answer,
before any request leaves. Used by the tests and by the reliability report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws import aws_client


def _event(client: Any, operation: str) -> str:
    return f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"


@contextmanager
def failing(service: str, operation: str, code: str = "ServiceUnavailable") -> Iterator[list[str]]:
    """`operation` on the functions' `service` client fails with AWS error `code` (as a botocore
    ClientError) while the block runs. Yields the calls that failed."""
    client = aws_client(service)
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

    unique_id = f"fail-{service}-{operation}"
    client.meta.events.register(_event(client, operation), fail, unique_id=unique_id)
    try:
        yield calls
    finally:
        client.meta.events.unregister(_event(client, operation), unique_id=unique_id)


@contextmanager
def counting(service: str, operation: str) -> Iterator[list[str]]:
    """Counts the calls of `operation` the functions make while the block runs."""
    client = aws_client(service)
    calls: list[str] = []

    def count(**_: Any) -> None:
        calls.append(operation)

    unique_id = f"count-{service}-{operation}"
    client.meta.events.register(_event(client, operation), count, unique_id=unique_id)
    try:
        yield calls
    finally:
        client.meta.events.unregister(_event(client, operation), unique_id=unique_id)
