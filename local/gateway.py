"""The local API Gateway: an HTTP API with Lambda proxy integrations (payload format 2.0), served
over HTTP/1.1 as API Gateway's documented and observed behaviour has it. docs/local.md lists each
rule with its source, and what is not emulated.

A request is read whole (Content-Length or chunked, `Expect: 100-continue` answered, keep-alive
kept, a body cut off never delivered), refused by the gateway's own rules (request size, route,
throttle) or turned into the event the HTTP API would build, handed to the route's function, and
the function's result turned into the answer the HTTP API would give."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from local.events import decoded_path, http_api_event, new_request_id
from local.http_server import (
    BackgroundHttpServer,
    BodyIncomplete,
    BodyRefused,
    declared_length,
    read_body,
)
from local.resources import DEFAULT_STAGE, HttpRoute, Throttle
from local.runner import FunctionTimedOut

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
"""The HTTP API's payload quota ("Payload size | 10 MB"), applied to the body as received once
de-chunked: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"""
MAX_REQUEST_HEAD_BYTES = 10240
"""Same page: "Total combined size of request line and header values | 10240 bytes"."""
MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload quota, for the event and for the result: "For
synchronous invocations, the maximum payload size is 6 MB."
https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html"""
IDLE_SECONDS = 60
"""How long a connection may stay silent (between requests, or inside one) before it is closed."""
LINGER_BYTES = 16 * 1024 * 1024
"""At most this much of a refused body is read and dropped before closing, so that the client
reads the refusal instead of a connection reset."""

DEFAULT_ROUTE = "$default"
MESSAGES = {
    400: "Bad Request",
    404: "Not Found",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
}
"""The gateway's own answers: `{"message": ...}` with these words, as the HTTP API writes them."""
_NOT_FORWARDED = {
    "connection",
    "content-length",
    "expect",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
"""Hop-by-hop and framing request headers: the gateway consumes them; the event gets the
`content-length` of the body it carries."""
_NOT_RETURNED = {"connection", "content-length", "keep-alive", "transfer-encoding"}
"""Framing headers in a function's result: the gateway frames the answer itself."""

_ROUNDING = 1e-9
"""A refill of exactly one token's time counts as one token, whatever floating point says."""

Invoke = Callable[[str, dict[str, Any]], Any]
Clock = Callable[[], float]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatewayRoute:
    """What the gateway needs to serve one route key."""

    function_id: str
    throttle: Throttle | None = None
    api_id: str = "local"
    stage: str = DEFAULT_STAGE


class MalformedResult(ValueError):
    """A function result the HTTP API cannot turn into an answer."""


class TokenBucket:
    """API Gateway's throttle: up to `burst_limit` tokens, refilled at `rate_limit` per second,
    one taken per request; none left means 429.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html"""

    def __init__(self, throttle: Throttle, clock: Clock) -> None:
        self._rate = throttle.rate_limit
        self._burst = throttle.burst_limit
        self._clock = clock
        self._tokens = float(self._burst)
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens < 1 - _ROUNDING:
                return False
            self._tokens = max(0.0, self._tokens - 1)
            return True


def match_route(
    routes: Mapping[str, GatewayRoute], method: str, path: str
) -> tuple[str, dict[str, str]] | None:
    """The route key that serves `method path`, with its path parameters, by the HTTP API's
    order: a full match (a named method before `ANY`, literal segments before `{variables}`),
    then a greedy `{proxy+}` match, then `$default`; None when nothing does.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html"""
    best: tuple[tuple[bool, bool, int], str, dict[str, str]] | None = None
    for key, route in routes.items():
        if key == DEFAULT_ROUTE:
            continue
        route_method, _, template = key.partition(" ")
        if route_method not in (method, "ANY"):
            continue
        staged = _without_stage(path, route.stage)
        parameters = None if staged is None else _match_path(template, staged)
        if parameters is None:
            continue
        rank = (template.endswith("+}"), route_method == "ANY", len(parameters))
        if best is None or rank < best[0]:
            best = (rank, key, parameters)
    if best is not None:
        return best[1], best[2]
    if DEFAULT_ROUTE in routes and _without_stage(path, routes[DEFAULT_ROUTE].stage) is not None:
        return DEFAULT_ROUTE, {}
    return None


def _without_stage(path: str, stage: str) -> str | None:
    """The path under a named stage's `/{stage}` prefix; a `$default` stage has none."""
    if stage == DEFAULT_STAGE:
        return path
    prefix = f"/{stage}"
    if path == prefix:
        return "/"
    return path[len(prefix) :] if path.startswith(prefix + "/") else None


def _match_path(template: str, path: str) -> dict[str, str] | None:
    wanted = template.split("/")[1:]
    given = path.split("/")[1:]
    parameters: dict[str, str] = {}
    for index, segment in enumerate(wanted):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = "/".join(given[index:])
            if not rest:
                return None
            parameters[segment[1:-2]] = rest
            return parameters
        if index >= len(given):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            if not given[index]:
                return None
            parameters[segment[1:-1]] = given[index]
        elif segment != given[index]:
            return None
    return parameters if len(given) == len(wanted) else None


def http_answer(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and body the HTTP API answers for a function's result (payload 2.0).

    Without `statusCode` the result is the body of a 200 `application/json` answer; with it, the
    result must be well formed (else MalformedResult, which the gateway answers 500).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html"""
    try:
        size = len(json.dumps(result).encode())
    except (TypeError, ValueError) as error:
        raise MalformedResult("the result is not JSON") from error
    if size > MAX_INVOKE_PAYLOAD_BYTES:
        raise MalformedResult("the result is over Lambda's 6 MB payload limit")
    if not (isinstance(result, dict) and "statusCode" in result):
        text = result if isinstance(result, str) else json.dumps(result)
        return 200, [("Content-Type", "application/json")], text.encode()
    status = result["statusCode"]
    if type(status) is not int or not 100 <= status <= 599:
        raise MalformedResult(f"statusCode {status!r} is not an HTTP status")
    headers = _result_headers(result.get("headers"))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
    return status, _result_cookies(result.get("cookies")) + headers, _result_body(result)


def _result_headers(headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise MalformedResult("headers is not an object")
    pairs = []
    for name, value in headers.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise MalformedResult(f"header {name!r} is not a string")
        if name.lower() not in _NOT_RETURNED:
            pairs.append((name, str(value)))
    return pairs


def _result_cookies(cookies: Any) -> list[tuple[str, str]]:
    """Each of `cookies` is a `set-cookie` header, before any the headers hold."""
    if cookies is None:
        return []
    if not isinstance(cookies, list) or not all(isinstance(cookie, str) for cookie in cookies):
        raise MalformedResult("cookies is not a list of strings")
    return [("Set-Cookie", cookie) for cookie in cookies]


def _result_body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResult("body is not a string")
    if result.get("isBase64Encoded") is not True:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise MalformedResult("body is not base64") from error


class LocalGateway(BackgroundHttpServer):
    def __init__(
        self,
        routes: Mapping[str, str | GatewayRoute],
        invoke: Invoke,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> None:
        """`routes` maps route keys (`POST /postbacks`, `ANY /items/{id}`, `$default`) to the
        function (logical id) their integration invokes, and what the stage applies to them.
        `clock` drives the throttle's token buckets; `wall_clock` the event's request time."""
        self._routes = {
            key: route if isinstance(route, GatewayRoute) else GatewayRoute(route)
            for key, route in routes.items()
        }
        self._invoke = invoke
        self._wall_clock = wall_clock
        self._buckets = {
            key: TokenBucket(route.throttle, clock)
            for key, route in self._routes.items()
            if route.throttle is not None
        }
        super().__init__(self._connection_class(), host, port)

    @classmethod
    def for_routes(
        cls, routes: Mapping[str, HttpRoute], invoke: Invoke, **options: Any
    ) -> LocalGateway:
        """A gateway for the template's routes (`LocalResources.http_routes()`)."""
        return cls(
            {
                key: GatewayRoute(
                    function_id=route.function.logical_id,
                    throttle=route.throttle,
                    api_id=route.api_id,
                    stage=route.stage,
                )
                for key, route in routes.items()
            },
            invoke,
            **options,
        )

    def _connection_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Connection(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            timeout = IDLE_SECONDS

            def handle_one_request(self) -> None:
                try:
                    self.raw_requestline = self.rfile.readline(65537)
                    if not self.raw_requestline or len(self.raw_requestline) > 65536:
                        self.close_connection = True
                        return
                    if self.parse_request():
                        gateway._serve(self)
                except (TimeoutError, ConnectionError):
                    self.close_connection = True

            def handle_expect_100(self) -> bool:
                """Refuse before the client sends the body, when its head says enough."""
                refusal = gateway._refusal_before_body(self)
                if refusal is not None:
                    gateway._answer(self, refusal, new_request_id(), close=True)
                    return False
                return super().handle_expect_100()

            def log_message(self, *_: object) -> None:
                return

        return Connection

    def _serve(self, connection: BaseHTTPRequestHandler) -> None:
        request_id = new_request_id()
        refusal = self._refusal_before_body(connection)
        if refusal is not None:
            self._answer(connection, refusal, request_id, close=True)
            return
        try:
            body = read_body(connection.headers, connection.rfile, MAX_PAYLOAD_BYTES)
        except BodyRefused as refused:
            self._answer(connection, refused.status, request_id, close=True)
            return
        except BodyIncomplete:
            connection.close_connection = True
            return
        method = connection.command
        raw_path, raw_query = _target(connection.path)
        path = decoded_path(raw_path)
        matched = match_route(self._routes, method, path)
        if matched is None:
            self._answer(connection, 404, request_id)
            return
        key, parameters = matched
        bucket = self._buckets.get(key)
        if bucket is not None and not bucket.take():
            self._answer(connection, 429, request_id)
            return
        route = self._routes[key]
        event = http_api_event(
            method=method,
            path=path,
            raw_query=raw_query,
            headers=self._forwarded_headers(connection, len(body)),
            body=body,
            source_ip=connection.client_address[0],
            request_id=request_id,
            api_id=route.api_id,
            route_key=key,
            stage=route.stage,
            path_parameters=parameters,
            protocol=connection.request_version,
            epoch_seconds=self._wall_clock(),
        )
        if len(json.dumps(event).encode()) > MAX_INVOKE_PAYLOAD_BYTES:
            self._answer(connection, 413, request_id)
            return
        try:
            status, headers, payload = http_answer(self._invoke(route.function_id, event))
        except FunctionTimedOut as error:
            logger.warning("%s %s (request %s): %s", method, path, request_id, error)
            self._answer(connection, 500, request_id)
            return
        except Exception:
            logger.exception("%s %s (request %s): the function failed", method, path, request_id)
            self._answer(connection, 500, request_id)
            return
        self._send(connection, status, headers, payload, request_id)

    def _refusal_before_body(self, connection: BaseHTTPRequestHandler) -> int | None:
        """The status refusing the request on its head alone: too large a head, a body larger
        than the HTTP API takes, or an unreadable Content-Length."""
        head = len(connection.requestline) + sum(
            len(value) for value in connection.headers.values()
        )
        if head > MAX_REQUEST_HEAD_BYTES:
            return 431
        try:
            length = declared_length(connection.headers)
        except BodyRefused as refused:
            return refused.status
        return 413 if length is not None and length > MAX_PAYLOAD_BYTES else None

    def _forwarded_headers(
        self, connection: BaseHTTPRequestHandler, body_length: int
    ) -> list[tuple[str, str]]:
        """The client's headers as the function sees them: without hop-by-hop and framing
        headers, with the ones API Gateway adds."""
        received = [
            (name, value)
            for name, value in connection.headers.items()
            if name.lower() not in _NOT_FORWARDED
        ]
        names = {name.lower() for name, _ in received}
        source_ip = connection.client_address[0]
        forwarded_for = ", ".join(
            [value for name, value in received if name.lower() == "x-forwarded-for"] + [source_ip]
        )
        added = [
            ("content-length", str(body_length)),
            ("x-forwarded-for", forwarded_for),
            ("x-forwarded-port", str(self.port)),
            ("x-forwarded-proto", "http"),
        ]
        if "x-amzn-trace-id" not in names:
            trace = f"Root=1-{int(self._wall_clock()):08x}-{os.urandom(12).hex()}"
            added.append(("x-amzn-trace-id", trace))
        kept = [(name, value) for name, value in received if name.lower() != "x-forwarded-for"]
        return kept + added

    def _answer(
        self,
        connection: BaseHTTPRequestHandler,
        status: int,
        request_id: str,
        *,
        close: bool = False,
    ) -> None:
        """One of the gateway's own answers. With `close`, the request's body was not read:
        what the client still sends is read and dropped (up to a limit) before closing."""
        payload = json.dumps({"message": MESSAGES[status]}, separators=(",", ":")).encode()
        if close:
            connection.close_connection = True
        self._send(connection, status, [("Content-Type", "application/json")], payload, request_id)
        if close:
            _linger(connection)

    def _send(
        self,
        connection: BaseHTTPRequestHandler,
        status: int,
        headers: Iterable[tuple[str, str]],
        payload: bytes,
        request_id: str,
    ) -> None:
        connection.send_response_only(status, MESSAGES.get(status))
        connection.send_header("Date", connection.date_time_string())
        for name, value in headers:
            connection.send_header(name, value)
        connection.send_header("Content-Length", str(len(payload)))
        connection.send_header(
            "Connection", "close" if connection.close_connection else "keep-alive"
        )
        connection.send_header("apigw-requestid", request_id)
        connection.end_headers()
        if connection.command != "HEAD" and status not in (204, 304):
            connection.wfile.write(payload)


def _target(target: str) -> tuple[str, str]:
    """The path and the query string exactly as sent (origin-form or absolute-form)."""
    if not target.startswith("/"):
        parts = urlsplit(target)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path, _, query = target.partition("?")
    return path, query


def _linger(connection: BaseHTTPRequestHandler) -> None:
    try:
        connection.wfile.flush()
        connection.connection.shutdown(socket.SHUT_WR)
        connection.connection.settimeout(1)
        drained = 0
        while drained < LINGER_BYTES and (chunk := connection.rfile.read1(65536)):
            drained += len(chunk)
    except OSError:
        return
