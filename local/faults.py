"""Faults injected where they would really happen: the functions' own boto3 clients (every timeout
tier's client of `functions.adapters.aws.aws_service` in this process) raise the error AWS would
answer, before any request leaves; or AWS hangs, for real: a TCP server that accepts every
connection and then neither reads nor answers, which the functions' clients are pointed at. Used
by the tests and by the reliability report."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from functions.adapters.aws import aws_service
from local.invoke import reset_function_state


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


ENDPOINT_VARIABLES = {
    "dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "s3": "AWS_ENDPOINT_URL_S3",
    "sqs": "AWS_ENDPOINT_URL_SQS",
    "secretsmanager": "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "sns": "AWS_ENDPOINT_URL_SNS",
}
"""botocore's per-service endpoint variables (its service id, upper case, spaces as `_`)."""


class SilentServer:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def connections(self) -> int:
        """How many connections it accepted (and left hanging)."""
        return len(self._accepted)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._accepted.append(connection)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._listener.close()
        for connection in self._accepted:
            connection.close()


@contextmanager
def hanging(service: str, server: SilentServer) -> Iterator[None]:
    """The functions' `service` endpoint is `server` while the block runs, set as a user would
    (`AWS_ENDPOINT_URL_<SERVICE>`); their cached state is dropped and their clients made anew
    before the block, as a warm Lambda instance would have them."""
    variable = ENDPOINT_VARIABLES[service]
    os.environ[variable] = server.url
    reset_function_state()
    for name in ENDPOINT_VARIABLES:
        aws_service(name).clients()
    try:
        yield
    finally:
        os.environ.pop(variable, None)
        reset_function_state()


@contextmanager
def hanging_call(
    service: str,
    operation: str,
    server: SilentServer,
    when: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> Iterator[list[dict[str, Any]]]:
    """Only the `operation` calls that `when` picks (by their parameters) go to `server`: the
    prepared request is sent to its address instead of AWS's. Yields those calls' parameters."""
    clients = aws_service(service).clients()
    redirected: list[dict[str, Any]] = []
    picked: list[bool] = []
    prefix = clients[0].meta.service_model.service_id.hyphenize()

    def pick(params: dict[str, Any], **_: Any) -> None:
        picked.append(when(params))
        if picked[-1]:
            redirected.append(dict(params))

    def redirect(request: Any, **_: Any) -> None:
        if picked and picked[-1]:
            request.url = (
                urlsplit(request.url)
                ._replace(scheme="http", netloc=urlsplit(server.url).netloc)
                .geturl()
            )

    events = (
        (f"before-parameter-build.{prefix}.{operation}", pick),
        (f"before-send.{prefix}.{operation}", redirect),
    )
    for client in clients:
        for event, handler in events:
            client.meta.events.register(event, handler, unique_id=f"hang-{event}")
    try:
        yield redirected
    finally:
        for client in clients:
            for event, _ in events:
                client.meta.events.unregister(event, unique_id=f"hang-{event}")


@contextmanager
def entries_failing(
    code: str, fails: Callable[[dict[str, Any]], bool], *, calls: int = 1
) -> Iterator[list[dict[str, Any]]]:
    """The functions' PutEvents answers as EventBridge does when some entries fail: for the next
    `calls` calls, each entry for which `fails(entry)` holds is not put and comes back with
    `code` (`FailedEntryCount` counts them); the others are put for real. Yields the entries that
    were failed."""
    clients = aws_service("events").clients()
    service = clients[0].meta.service_model.service_id.hyphenize()
    passthrough = boto3.session.Session().client(
        "events", region_name=clients[0].meta.region_name, endpoint_url=clients[0].meta.endpoint_url
    )
    failed: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    remaining = [calls]

    def keep(params: dict[str, Any], **_: Any) -> None:
        pending[:] = [params]

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if remaining[0] <= 0:
            return None
        remaining[0] -= 1
        entries = pending[0]["Entries"]
        kept = [entry for entry in entries if not fails(entry)]
        put = iter(passthrough.put_events(Entries=kept)["Entries"] if kept else [])
        answered = []
        for entry in entries:
            if fails(entry):
                failed.append(entry)
                answered.append({"ErrorCode": code, "ErrorMessage": "injected fault"})
            else:
                answered.append(next(put))
        parsed = {
            "FailedEntryCount": sum(1 for entry in answered if "ErrorCode" in entry),
            "Entries": answered,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }
        return AWSResponse("https://events.local", 200, {}, None), parsed

    keep_event = f"before-parameter-build.{service}.PutEvents"
    answer_event = f"before-call.{service}.PutEvents"
    for client in clients:
        client.meta.events.register(keep_event, keep, unique_id="entries-failing-keep")
        client.meta.events.register(answer_event, answer, unique_id="entries-failing-answer")
    try:
        yield failed
    finally:
        for client in clients:
            client.meta.events.unregister(keep_event, unique_id="entries-failing-keep")
            client.meta.events.unregister(answer_event, unique_id="entries-failing-answer")
