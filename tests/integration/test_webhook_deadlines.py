"""AWS that accepts the connection and then never answers, on the real webhooks handler with a real
deadline: every call gives up in time for the delivery to be archived in `unstored/` and a 503 sent
before the invocation's time runs out (as tests/integration/test_deadlines.py checks for
postbacks). CallFire, answered 503, sends the delivery again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.faults import SilentServer, hanging
from local.invoke import LocalLambdaContext, lambda_context
from tests.helpers import REGION
from tests.integration.conftest import WebhookClient
from tests.integration.test_deadlines import assert_each_attempt_fitted, given_up
from tests.integration.test_webhooks_handler import (
    archived,
    delivery,
    fresh_id,
    get_call,
    with_resource,
)

TIMEOUT_SECONDS = 6
"""The invocation's time: a few seconds, so that a hang would pass it."""


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def short_invocation(webhooks: WebhookClient) -> LocalLambdaContext:
    return lambda_context(webhooks.function, REGION, timeout_seconds=TIMEOUT_SECONDS)


def test_a_hanging_dynamodb_ends_in_503_with_the_delivery_in_unstored_in_time(
    webhooks: WebhookClient,
    aws: Callable[[str], Any],
    silent: SilentServer,
    log_output: list[str],
) -> None:
    event = with_resource("outbound_call_finished.json")
    body = delivery(event)
    with hanging("dynamodb", silent):
        invocation = short_invocation(webhooks)
        answer = webhooks.post(body, context=invocation)

    assert answer.status == 503
    assert answer.body["error"] == "storage_unavailable"
    assert invocation.get_remaining_time_in_millis() > 0, "answered before the function's timeout"
    (kept,) = archived(aws, webhooks, "unstored/")
    assert kept["body"] == body
    assert kept["metadata"]["reason"] in {"ReadTimeoutError", "OutOfTime"}
    assert get_call(webhooks, str(event["resource"]["id"])) is None
    assert silent.connections >= 1
    (put,) = given_up(log_output, "put_item")
    assert_each_attempt_fitted(put)


def test_a_hanging_alarm_topic_ends_in_503_so_the_low_balance_is_told_again_in_time(
    webhooks: WebhookClient,
    aws: Callable[[str], Any],
    silent: SilentServer,
    log_output: list[str],
) -> None:
    stamp = 1700000000000 + fresh_id() % 10**6
    body = delivery(
        {"timestamp": stamp, "resourceType": "LowBalance", "eventType": "Finished", "resource": {}}
    )
    with hanging("sns", silent):
        invocation = short_invocation(webhooks)
        answer = webhooks.post(body, context=invocation)

    assert answer.status == 503
    assert invocation.get_remaining_time_in_millis() > 0
    (kept,) = archived(aws, webhooks, "unstored/")
    assert kept["body"] == body
    (publish,) = given_up(log_output, "publish")
    assert_each_attempt_fitted(publish)
