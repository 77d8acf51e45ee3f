"""The local system's log: two functions invoked at the same moment in one process each print their
own keys, as two Lambda environments would; and the readable line of each invocation."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from functions.names import SERVICE_NAME
from local.logs import FunctionLogs, Invocation, readable_line
from local.resources import LocalFunction
from local.runner import FunctionRunner

logger = Logger(service=SERVICE_NAME)
FIRST_WAITS = threading.Event()
SECOND_DONE = threading.Event()


@logger.inject_lambda_context(log_event=False, clear_state=True)
def first_handler(event: dict[str, Any], context: Any) -> str:
    """Like the recordings function: keys of its own, then a wait (a download) mid-invocation."""
    logger.append_keys(callId="first-call")
    logger.info("first started")
    FIRST_WAITS.set()
    assert SECOND_DONE.wait(30)
    logger.info("first finished")
    return "first"


@logger.inject_lambda_context(log_event=False, clear_state=True)
def second_handler(event: dict[str, Any], context: Any) -> str:
    """Like the postback function, invoked while the first one waits."""
    assert FIRST_WAITS.wait(30)
    logger.append_keys(kind="call")
    logger.info("second ran")
    return "second"


def function(name: str) -> LocalFunction:
    return LocalFunction(name, f"{__name__}.{name.lower()}_handler", {}, 60, 128)


@pytest.fixture
def printed() -> Iterator[io.StringIO]:
    """What the functions' logger prints, while the test runs."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    saved = handler.setStream(stream)
    FIRST_WAITS.clear()
    SECOND_DONE.clear()
    try:
        yield stream
    finally:
        handler.setStream(saved)


def test_two_functions_at_once_each_print_only_their_own_keys(printed: io.StringIO) -> None:
    """Failed before `FunctionLogs` (one formatter for the whole process): the second function's
    line named the first function, and the first function's last line had lost its callId."""
    functions = {name: function(name) for name in ("First", "Second")}
    seen: list[Invocation] = []
    logs = FunctionLogs(observe=seen.append).install()
    try:
        runner = FunctionRunner(functions, "us-east-1", logs=logs)
        first = threading.Thread(target=runner.invoke, args=("First", {}))
        first.start()
        assert runner.invoke("Second", {}) == "second"
        SECOND_DONE.set()
        first.join(30)
    finally:
        logs.uninstall()

    lines = [json.loads(line) for line in printed.getvalue().splitlines()]
    by_function = {invocation.function_id: invocation for invocation in seen}
    assert sorted(line["message"] for line in lines) == [
        "first finished",
        "first started",
        "second ran",
    ]
    owners = ["Second" if line["message"] == "second ran" else "First" for line in lines]
    assert [line["function_name"] for line in lines] == owners
    for line, own in zip(lines, owners, strict=True):
        assert line["function_request_id"] == by_function[own].lines[0]["function_request_id"]
    (second,) = [line for line in lines if line["message"] == "second ran"]
    assert "callId" not in second
    assert [line.get("callId") for line in lines if line["function_name"] == "First"] == [
        "first-call",
        "first-call",
    ]
    assert [line["message"] for line in by_function["Second"].lines] == ["second ran"]


def test_without_json_lines_only_the_observer_sees_them(printed: io.StringIO) -> None:
    seen: list[Invocation] = []
    logs = FunctionLogs(observe=seen.append, json_lines=False).install()
    SECOND_DONE.set()
    try:
        FunctionRunner({"First": function("First")}, "us-east-1", logs=logs).invoke("First", {})
    finally:
        logs.uninstall()

    assert printed.getvalue() == ""
    ((invocation),) = seen
    assert [line["message"] for line in invocation.lines] == ["first started", "first finished"]


def test_the_level_is_read_from_the_environment_when_installed(
    printed: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo` sets POWERTOOLS_LOG_LEVEL=ERROR after the functions' Logger was created (at
    the import of its own modules): the level must follow the environment all the same."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
    logs = FunctionLogs().install()
    SECOND_DONE.set()
    try:
        FunctionRunner({"First": function("First")}, "us-east-1", logs=logs).invoke("First", {})
    finally:
        logs.uninstall()

    assert printed.getvalue() == ""


def postback(status: int, body: dict[str, Any]) -> Invocation:
    return Invocation(
        "PostbacksHandler",
        {
            "routeKey": "POST /postbacks",
            "rawPath": "/postbacks",
            "requestContext": {"http": {"method": "POST"}},
        },
        result={"statusCode": status, "body": json.dumps(body)},
        milliseconds=12.4,
        lines=[{"level": "INFO", "message": "report stored", "callId": "1", "campaignId": "2"}],
    )


def test_a_request_is_one_readable_line() -> None:
    line = readable_line(postback(200, {"status": "stored", "kind": "call", "id": "1"}))

    assert line.split() == [
        line[:8],
        "POST",
        "/postbacks",
        "200",
        "stored",
        "call",
        "1",
        "campaign",
        "2",
        "12",
        "ms",
    ]


def test_a_refusal_names_its_error_and_a_queue_batch_its_reason() -> None:
    refused = readable_line(postback(403, {"error": "forbidden", "message": "no"}))
    retried = readable_line(
        Invocation(
            "RecordingsCopierFunctionDE40E499",
            {"Records": [{"eventSource": "aws:sqs"}]},
            result={"batchItemFailures": [{"itemIdentifier": "m"}]},
            lines=[
                {
                    "level": "WARNING",
                    "message": "recording not copied yet; the queue retries it",
                    "reason": "HTTP 503",
                    "callId": "7",
                    "recording": 0,
                }
            ],
        )
    )

    assert refused.split()[3:5] == ["403", "forbidden"]
    assert retried.split()[1:6] == ["RecordingsCopier", "(sqs)", "retry", "0/1", "ok"]
    assert "call 7 recording #0" in retried
    assert retried.endswith("recording not copied yet; the queue retries it: HTTP 503")
