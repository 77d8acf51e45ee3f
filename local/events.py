"""Events as AWS hands them to the functions: API Gateway HTTP API (payload 2.0) requests, and
CloudFormation custom resource requests as the CDK Provider framework relays them."""

from __future__ import annotations

import base64
import os
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
"""Request headers as a mapping, or as the (name, value) pairs they arrived in (repeats kept)."""

TEXT_MEDIA_TYPES = ("application/json", "application/xml", "application/javascript")
"""With `text/*`, the media types whose body API Gateway hands the function as text; every other
body (no Content-Type at all, form-urlencoded, octet-stream, ...) arrives base64-encoded. AWS
documents the mechanism only ("If the content type of the request is binary, the body is
base64-encoded": https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html); this split is
the one observed against a deployed HTTP API (docs/local.md)."""
_PERCENT_25 = re.compile("%25", re.IGNORECASE)


def http_api_event(
    *,
    method: str,
    path: str,
    raw_query: str = "",
    headers: Headers | None = None,
    body: bytes = b"",
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    api_id: str = "local",
    route_key: str | None = None,
    stage: str = "$default",
    path_parameters: Mapping[str, str] | None = None,
    protocol: str = "HTTP/1.1",
    epoch_seconds: float | None = None,
) -> dict[str, Any]:
    """The event API Gateway's HTTP API hands a Lambda integration (payload format 2.0) for a
    request to `method path?raw_query`, `path` being the decoded path (see `decoded_path`).

    Header names are lower-cased and repeated headers joined with commas; `Cookie` headers become
    `cookies`; repeated query parameters are joined with commas; `body`, `cookies`,
    `queryStringParameters` and `pathParameters` are left out when there are none, as AWS does
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html)."""
    joined, cookies = _headers_and_cookies(headers or {})
    now = time.time() if epoch_seconds is None else epoch_seconds
    key = route_key or f"{method} {path}"
    host = joined.get("host", "localhost")
    text = _as_text(body, joined.get("content-type", ""))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(":", 1)[0].split(".", 1)[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": protocol,
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id or new_request_id(),
            "routeKey": key,
            "stage": stage,
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": text is None,
    }
    if cookies:
        event["cookies"] = cookies
    if query := _joined_query(raw_query):
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        event["body"] = text if text is not None else base64.b64encode(body).decode("ascii")
    return event


def decoded_path(raw_path: str) -> str:
    """The path as the HTTP API puts it in `rawPath` and matches routes against: every
    percent-escape decoded but `%25`, which stays as sent."""
    return "%25".join(unquote(part) for part in _PERCENT_25.split(raw_path))


def new_request_id() -> str:
    """An id shaped like API Gateway's (`JKJaXmPLvHcESHA=`: 15 URL-safe characters and `=`)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode("ascii")


def is_text_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in TEXT_MEDIA_TYPES


def _headers_and_cookies(headers: Headers) -> tuple[dict[str, str], list[str]]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        lowered = name.lower()
        if lowered == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            joined[lowered] = f"{joined[lowered]},{value}" if lowered in joined else value
    return joined, cookies


def _joined_query(raw_query: str) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


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


def _as_text(body: bytes, content_type: str) -> str | None:
    """The body as the text API Gateway would pass for a text media type; None when it travels
    base64-encoded: a binary media type, or (a local choice, docs/local.md) bytes that are not
    UTF-8, so that no byte is lost."""
    if not is_text_media_type(content_type):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


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
