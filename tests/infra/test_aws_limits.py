"""Limits that AWS enforces and moto does not, checked on the synthesized template: each function's
timeout covers its worst case, the body limit fits Lambda's payload, the access log is a vended
log group, and a stuck custom resource fails the deployment in minutes."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import pytest

from functions.names import Context, Env, Handler, Route
from functions.registration.subscriptions import endpoints_for
from functions.wiring import postback, recordings, registration, webhooks
from infra.config import (
    HTTP_API_EVENT_ALLOWANCE,
    LAMBDA_SYNC_PAYLOAD_BYTES,
    MAX_BODY_BYTES_CEILING,
    ConfigError,
    ReceiverConfig,
)
from local.events import http_api_event
from local.template import synthesize

HTTP_API_INTEGRATION_TIMEOUT_SECONDS = 30
"""API Gateway HTTP APIs: "Maximum integration timeout: 30 seconds", not increasable
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html)."""
HTTP_API_REQUEST_LINE_AND_HEADERS_BYTES = 10_240
"""Same page: "Total combined size of request line and header values: 10240 bytes"."""


def function_by_handler(template: dict[str, Any], handler: str) -> dict[str, Any]:
    (properties,) = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == handler
    ]
    return properties


@pytest.fixture(scope="module")
def with_registration() -> dict[str, Any]:
    return synthesize({Context.CALLFIRE_API_KEY_SECRET_NAME: "callfire/api-key"})


def test_the_postback_timeout_covers_its_worst_case_and_answers_before_the_gateway(
    template: dict[str, Any],
) -> None:
    """Past the function's timeout the invocation keeps nothing and API Gateway answers 500; past
    the gateway's 30 s it answers 503 while the function runs on. The function must answer
    first, after the slowest request that AWS still answers."""
    timeout = function_by_handler(template, Handler.POSTBACK)["Timeout"]

    assert timeout >= math.ceil(postback.worst_case_seconds())
    assert timeout < HTTP_API_INTEGRATION_TIMEOUT_SECONDS


def test_the_webhooks_timeout_covers_a_one_event_delivery_and_answers_before_the_gateway(
    template: dict[str, Any],
) -> None:
    """As for postbacks: a delivery of one event, when AWS is slow but answers, is stored and
    answered in time; a longer one stops early enough to archive it and answer 503."""
    timeout = function_by_handler(template, Handler.WEBHOOKS)["Timeout"]

    assert timeout >= math.ceil(webhooks.worst_case_seconds())
    assert timeout < HTTP_API_INTEGRATION_TIMEOUT_SECONDS


def test_the_recordings_timeout_covers_one_message_and_its_bookkeeping(
    template: dict[str, Any],
) -> None:
    properties = function_by_handler(template, Handler.RECORDINGS)

    assert properties["Timeout"] >= recordings.worst_case_seconds(
        properties["Environment"]["Variables"]
    )
    assert float(properties["Environment"]["Variables"][Env.RECORDING_READ_TIMEOUT]) > 0


def test_the_registration_timeout_covers_every_attempt_at_every_default_endpoint(
    with_registration: dict[str, Any],
) -> None:
    properties = function_by_handler(with_registration, Handler.REGISTRATION)

    assert properties["Timeout"] >= registration.worst_case_seconds(len(endpoints_for(())))


def test_a_stuck_custom_resource_fails_the_deployment_in_minutes(
    with_registration: dict[str, Any],
) -> None:
    """ServiceTimeout: "The maximum time, in seconds, that can elapse before a custom resource
    operation times out. The value must be an integer from 1 to 3600. The default value is 3600
    seconds (1 hour)" (AWS::CloudFormation::CustomResource, CloudFormation User Guide). It must
    let the function finish (its timeout, and the Provider framework's own minute)."""
    (subscription,) = [
        resource["Properties"]
        for resource in with_registration["Resources"].values()
        if resource["Type"].startswith("Custom::")
    ]
    service_timeout = int(subscription["ServiceTimeout"])
    handler_timeout = function_by_handler(with_registration, Handler.REGISTRATION)["Timeout"]

    assert handler_timeout + 60 <= service_timeout <= 15 * 60


def test_the_access_log_group_is_a_vended_log_group(template: dict[str, Any]) -> None:
    """API Gateway access logs are delivered as vended logs; CloudWatch Logs lists each log group
    in an account's resource policy, at most 5,120 characters, unless its name starts with
    /aws/vendedlogs/ ("Enabling logging from AWS services", CloudWatch Logs User Guide)."""
    (stage,) = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ApiGatewayV2::Stage"
    ]
    log_group_id = stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    name = template["Resources"][log_group_id]["Properties"]["LogGroupName"]

    assert name.startswith("/aws/vendedlogs/")


def largest_event(body: bytes) -> dict[str, Any]:
    """An HTTP API event as large as API Gateway lets the rest of a request be: the request line
    and headers at their limit, made of characters JSON must escape, the query string carrying
    most of it (it appears twice) and the user agent the rest (it appears twice too)."""
    room = HTTP_API_REQUEST_LINE_AND_HEADERS_BYTES - len(f"POST {Route.POSTBACKS}? HTTP/1.1")
    query = 'token="' + '\\"' * (room // 2 // 2)
    agent = '"\\' * ((room - len(query)) // 2)
    return http_api_event(
        method="POST",
        path=Route.POSTBACKS,
        raw_query=query,
        headers={"content-type": "application/octet-stream", "user-agent": agent},
        body=body,
    )


def test_the_largest_body_allowed_fits_lambdas_payload_inside_its_event() -> None:
    """Lambda takes at most 6 MB per synchronous invocation ("For synchronous invocations, the
    maximum payload size is 6 MB", https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html),
    the whole event counted; a binary body travels base64-encoded."""
    event = largest_event(b"\x00" * MAX_BODY_BYTES_CEILING)

    size = len(json.dumps(event).encode())

    assert event["isBase64Encoded"] is True
    assert len(base64.b64decode(event["body"])) == MAX_BODY_BYTES_CEILING
    assert size <= LAMBDA_SYNC_PAYLOAD_BYTES
    around_the_body = size - len(event["body"])
    assert around_the_body <= HTTP_API_EVENT_ALLOWANCE


def test_a_body_limit_past_lambdas_payload_is_refused_at_synth_with_the_reason() -> None:
    with pytest.raises(ConfigError) as refused:
        synthesize({Context.MAX_BODY_BYTES: 6 * 1024 * 1024})

    message = str(refused.value)
    assert str(MAX_BODY_BYTES_CEILING) in message
    assert "base64" in message
    assert str(LAMBDA_SYNC_PAYLOAD_BYTES) in message
    ReceiverConfig(max_body_bytes=MAX_BODY_BYTES_CEILING).validate()
    with pytest.raises(ConfigError):
        ReceiverConfig(max_body_bytes=MAX_BODY_BYTES_CEILING + 1).validate()
