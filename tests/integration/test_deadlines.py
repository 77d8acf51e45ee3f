"""AWS that accepts the connection and then never answers, on the real handlers with a real
deadline: every call gives up in time for the body to be archived and the answer sent before the
invocation's time runs out.

A Lambda function that passes its timeout keeps nothing: API Gateway answers 500 and the body is in
neither the table nor `unstored/`. So the checks read the invocation's own context when the
handler has answered: time must be left, and each attempt the functions made must have fitted in
the time left when it started (the "AWS call given up" line lists them). No test reads a clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.faults import SilentServer, hanging
from local.invoke import LocalLambdaContext, lambda_context
from local.resources import LocalResources
from tests.helpers import REGION, event_body
from tests.integration.conftest import PostbackClient
from tests.integration.test_postback_handler import (
    archived,
    get_call,
    queued_jobs,
    unique,
)

TIMEOUT_SECONDS = 6
"""The invocation's time: a few seconds, so that a hang would pass it."""


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def short_invocation(postback: PostbackClient) -> LocalLambdaContext:
    return lambda_context(postback.function, REGION, timeout_seconds=TIMEOUT_SECONDS)


def given_up(log_output: list[str], operation: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log_output]
    return [
        line
        for line in lines
        if line.get("message") == "AWS call given up" and line.get("operation") == operation
    ]


def assert_each_attempt_fitted(call: dict[str, Any]) -> None:
    """Each attempt's longest possible wait was within the time left when it began."""
    assert call["attempts"], call
    for attempt in call["attempts"]:
        assert attempt["seconds"] <= attempt["left"], call


def test_a_hanging_dynamodb_ends_in_503_with_the_body_in_unstored_in_time(
    postback: PostbackClient,
    aws: Callable[[str], Any],
    silent: SilentServer,
    log_output: list[str],
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))
    with hanging("dynamodb", silent):
        invocation = short_invocation(postback)
        answer = postback.post(body, context=invocation)

    assert answer.status == 503
    assert answer.body["error"] == "storage_unavailable"
    assert invocation.get_remaining_time_in_millis() > 0, "answered before the function's timeout"
    (kept,) = archived(aws, postback, "unstored/", postback.last_request_id)
    assert kept["body"] == body
    assert kept["metadata"]["reason"] in {"ReadTimeoutError", "OutOfTime"}
    assert get_call(aws, postback, call_id, "call") is None
    assert silent.connections >= 1
    (put,) = given_up(log_output, "put_item")
    assert_each_attempt_fitted(put)


def test_s3_hanging_while_archiving_a_refused_body_ends_in_5xx_in_time(
    postback: PostbackClient, silent: SilentServer, log_output: list[str]
) -> None:
    """Never a 4xx, which would tell CallFire the body was kept: CallFire keeps it and retries."""
    with hanging("s3", silent):
        invocation = short_invocation(postback)
        answer = postback.post(event_body("xxe_file.xml"), context=invocation)

    assert answer.status == 503
    assert answer.body["error"] == "storage_unavailable"
    assert invocation.get_remaining_time_in_millis() > 0
    (put,) = given_up(log_output, "put_object")
    assert_each_attempt_fitted(put)


def test_s3_hanging_while_keeping_a_large_body_stores_nothing_and_ends_in_5xx_in_time(
    postback: PostbackClient, aws: Callable[[str], Any], silent: SilentServer
) -> None:
    """The item names its body in the bucket only once the body is there: no 2xx, no item."""
    notes = "n" * 100_000
    body, call_id = unique(
        event_body("call_minimal.xml").replace(
            b"</callid>", b"</callid><notes>" + notes.encode() + b"</notes>"
        )
    )
    with hanging("s3", silent):
        invocation = short_invocation(postback)
        answer = postback.post(body, context=invocation)

    assert answer.status == 503
    assert invocation.get_remaining_time_in_millis() > 0
    assert get_call(aws, postback, call_id, "call") is None


def test_secrets_manager_hanging_before_the_token_was_read_ends_in_503_in_time(
    postback: PostbackClient,
    aws: Callable[[str], Any],
    silent: SilentServer,
    log_output: list[str],
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))
    with hanging("secretsmanager", silent):
        invocation = short_invocation(postback)
        answer = postback.post(body, context=invocation)

    assert answer.status == 503
    assert invocation.get_remaining_time_in_millis() > 0
    assert get_call(aws, postback, call_id, "call") is None
    (read,) = given_up(log_output, "get_secret_value")
    assert_each_attempt_fitted(read)


def test_sqs_hanging_still_stores_the_report_with_its_recordings_pending_in_time(
    postback: PostbackClient,
    aws: Callable[[str], Any],
    resources: LocalResources,
    silent: SilentServer,
    log_output: list[str],
) -> None:
    body, call_id = unique(event_body("call_finished.xml"))
    with hanging("sqs", silent):
        invocation = short_invocation(postback)
        answer = postback.post(body, context=invocation)

    assert (answer.status, answer.body["status"]) == (200, "stored")
    assert invocation.get_remaining_time_in_millis() > 0
    item = get_call(aws, postback, call_id, "call")
    assert item is not None
    assert [entry["status"] for entry in item["recordings"]] == ["PENDING"]
    assert queued_jobs(aws, resources, call_id) == []
    (send,) = given_up(log_output, "send_message_batch")
    assert_each_attempt_fitted(send)
