"""Events as AWS hands them to the functions: API Gateway HTTP API (payload 2.0) requests, and
CloudFormation custom resource requests as the CDK Provider framework relays them."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def http_api_event(
    *,
    method: str,
    path: str,
    raw_query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    api_id: str = "local",
) -> dict[str, Any]:
    """The event API Gateway would hand the Lambda integration of `method path`."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    now = datetime.now(UTC)
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    text_body = _as_text(body, lowered.get("content-type", ""), lowered.get("content-encoding", ""))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": api_id,
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id or _request_id(),
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": text_body is None,
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = (
            text_body if text_body is not None else base64.b64encode(body).decode("ascii")
        )
    return event


def custom_resource_event(
    request_type: str,
    properties: Mapping[str, Any],
    *,
    old_properties: Mapping[str, Any] | None = None,
    physical_resource_id: str | None = None,
    logical_id: str = "Resource",
    resource_type: str = "Custom::Resource",
) -> dict[str, Any]:
    """The event the CDK Provider framework hands a custom resource's on_event function."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": "local",
        "ResponseURL": "...",
        "StackId": f"arn:aws:cloudformation:local:123456789012:stack/local/{uuid.uuid4()}",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": {"ServiceToken": "local", **properties},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = physical_resource_id
    if old_properties is not None:
        event["OldResourceProperties"] = {"ServiceToken": "local", **old_properties}
    return event


def _as_text(body: bytes, content_type: str, content_encoding: str) -> str | None:
    """The body as text when API Gateway would pass it so: a text media type, not compressed,
    valid UTF-8. Otherwise None, and the body travels base64-encoded."""
    if content_encoding or not content_type.lower().startswith(_TEXT_TYPES):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _request_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes[:12]).decode("ascii")


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source hands a function for `messages` (as ReceiveMessage
    returns them, with `AttributeNames=["All"]`)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }
