"""Conformance: the local gateway reads requests, builds events and answers as API Gateway's HTTP
API does with a Lambda proxy integration (payload format 2.0), case by case, through real HTTP
clients: http.client (chunked too), urllib, raw sockets (cut-off bodies, pipelining, 100-continue)
and curl where it is installed.

Each case names what it follows: a page of AWS's documentation, or "observed" where only captures
from deployed APIs show the behaviour, or RFC 9112 where AWS says nothing and the gateway must
simply speak HTTP/1.1 correctly. docs/local.md lists the observed and unmatched cases.

Most cases call a recording stand-in for the function (what it receives, what it answers); the
template's own routes, throttle, timeouts and the real postback handler are used where they matter.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import http.client
import io
import json
import re
import shutil
import socket
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from functions.names import Handler, Output, Route
from local.gateway import GatewayRoute, LocalGateway
from local.resources import LocalResources, Throttle
from local.runner import FunctionRunner
from tests.fakes import ManualClock
from tests.helpers import EVENTS, REGION, event_body
from tests.integration.conftest import PostbackClient

WALL_CLOCK = 1583348638.390
"""The request time of the documentation's example event (`"timeEpoch": 1583348638390`)."""
ROUTES = {
    "POST /postbacks": "Postbacks",
    "POST /webhooks": "Webhooks",
    "GET /items/latest": "LatestItem",
    "GET /items/{id}": "ItemById",
    "ANY /items/{id}": "AnyItem",
    "GET /files/{path+}": "Files",
    "POST /answer": "Answer",
}
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{15}=")
TEN_MB = 10 * 1024 * 1024
TEXT = {"Content-Type": "text/plain"}
CURL = shutil.which("curl") or "curl"
curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


class Recorder:
    """Stands in for the functions: records each event, answers what the test set for the
    function (by default a small JSON answer naming it)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.results: dict[str, Callable[[dict[str, Any]], Any]] = {}

    def __call__(self, function_id: str, event: dict[str, Any]) -> Any:
        self.events.append((function_id, event))
        if function_id in self.results:
            return self.results[function_id](event)
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"function": function_id}),
        }

    @property
    def last(self) -> dict[str, Any]:
        return self.events[-1][1]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def gateway(recorder: Recorder) -> Iterator[LocalGateway]:
    with LocalGateway(ROUTES, recorder, wall_clock=lambda: WALL_CLOCK) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_recorder(recorder: Recorder) -> None:
    recorder.events.clear()
    recorder.results.clear()


def connect(gateway: LocalGateway) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)


def request(
    gateway: LocalGateway,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    connection: http.client.HTTPConnection | None = None,
) -> Reply:
    """One request through http.client (Content-Length framing)."""
    client = connection or connect(gateway)
    try:
        client.request(method, target, body=body, headers=headers or {})
        return as_reply(client.getresponse())
    finally:
        if connection is None:
            client.close()


def as_reply(response: http.client.HTTPResponse) -> Reply:
    body = response.read()
    return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def raw_exchange(gateway: LocalGateway, data: bytes, *, half_close: bool = True) -> bytes:
    """Send `data` on a fresh socket (then stop sending, with `half_close`), and read everything
    the gateway sends back until it closes the connection."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as raw:
        raw.sendall(data)
        if half_close:
            raw.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
        return received


def read_replies(data: bytes) -> list[Reply]:
    """Every HTTP/1.1 response in `data`, in order (100 Continue included)."""
    stream = io.BytesIO(data)
    replies = []
    while status_line := stream.readline():
        headers: dict[str, str] = {}
        while (line := stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = stream.read(int(headers.get("content-length", "0")))
        replies.append(Reply(int(status_line.split()[1]), headers, body))
    return replies


def head(target: str = "/postbacks", *lines: str, method: str = "POST") -> bytes:
    return (
        "\r\n".join([f"{method} {target} HTTP/1.1", "Host: localhost", *lines]) + "\r\n\r\n"
    ).encode()


# 1. HTTP/1.1 as API Gateway speaks it.


def test_a_chunked_body_reaches_the_function_whole(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """Unverified against AWS (no capture of a chunked upload exists): the HTTP API hands Lambda a
    complete payload, with a numeric `content-length` in every captured event (observed), so the
    body is read to its last chunk; `transfer-encoding` is a reserved header the function never
    sees (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html)."""
    parts = [b"<call-finished>", b"<callId>1</callId>" * 100, b"</call-finished>"]
    client = connect(gateway)
    client.request(
        "POST",
        "/postbacks",
        body=iter(parts),
        headers={"Content-Type": "text/xml"},
        encode_chunked=True,
    )
    reply = as_reply(client.getresponse())
    client.close()

    assert reply.status == 200
    event = recorder.last
    assert event["body"] == b"".join(parts).decode()
    assert event["headers"]["content-length"] == str(len(b"".join(parts)))
    assert "transfer-encoding" not in event["headers"]


def test_chunk_extensions_and_trailers_are_read_and_dropped(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """RFC 9112 section 7.1: chunk extensions and trailer fields are part of the framing."""
    chunked = b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"
    data = head("/postbacks", "Content-Type: text/plain", "Transfer-Encoding: chunked") + chunked

    (reply,) = read_replies(raw_exchange(gateway, data))

    assert reply.status == 200
    assert recorder.last["body"] == "hello world"
    assert "x-checksum" not in recorder.last["headers"]


def test_expect_100_continue_is_answered_before_the_body_is_sent(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """Unverified against AWS (nothing documents `Expect`); RFC 9110 section 10.1.1: a server
    that will read the body answers `100 Continue`, and the client then sends it."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as raw:
        raw.sendall(
            head(
                "/postbacks",
                "Content-Type: text/plain",
                "Content-Length: 5",
                "Expect: 100-continue",
            )
        )
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += raw.recv(1)
        raw.sendall(b"hello")
        raw.shutdown(socket.SHUT_WR)
        rest = b""
        while chunk := raw.recv(65536):
            rest += chunk

    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    (reply,) = read_replies(rest)
    assert reply.status == 200
    assert recorder.last["body"] == "hello"
    assert "expect" not in recorder.last["headers"]


def test_expect_100_continue_with_a_body_over_the_quota_is_refused_before_it(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """AWS: "Payload size | 10 MB" (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html):
    the announced length is enough to refuse, so the client is not asked for the body."""
    data = head(
        "/postbacks",
        "Content-Type: text/plain",
        f"Content-Length: {TEN_MB + 1}",
        "Expect: 100-continue",
    )

    (reply,) = read_replies(raw_exchange(gateway, data))

    assert (reply.status, reply.json()) == (413, {"message": "Request Entity Too Large"})
    assert recorder.events == []


@curl
@pytest.mark.parametrize(
    "options",
    [
        ["-H", "Transfer-Encoding: chunked"],
        ["-H", "Expect: 100-continue"],
        ["-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue"],
    ],
    ids=["chunked", "expect", "chunked+expect"],
)
def test_curl_sends_a_report_whole(
    gateway: LocalGateway, recorder: Recorder, options: list[str]
) -> None:
    """curl, as users try the gateway: the same body arrives however curl frames it."""
    sample = EVENTS / "call_finished.xml"
    result = subprocess.run(
        [CURL, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: text/xml",
         *options, "--data-binary", f"@{sample}", f"{gateway.url}/postbacks?token=t"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert (result.stdout, result.stderr) == ("200", "")
    assert recorder.last["body"].encode() == sample.read_bytes()


def test_several_requests_share_one_connection(gateway: LocalGateway, recorder: Recorder) -> None:
    """Observed: HTTP API answers carry `Connection: keep-alive`; HTTP/1.1 keeps the connection
    open unless either side says `close` (RFC 9112 section 9.3)."""
    client = connect(gateway)
    replies = [request(gateway, "POST", "/postbacks", b"one", connection=client)]
    first_socket = client.sock
    replies += [request(gateway, "POST", "/webhooks", b"two", connection=client)]
    replies += [request(gateway, "GET", "/items/3", connection=client)]

    assert client.sock is first_socket
    client.close()
    assert [reply.status for reply in replies] == [200, 200, 200]
    assert {reply.headers["connection"] for reply in replies} == {"keep-alive"}
    assert [function for function, _ in recorder.events] == ["Postbacks", "Webhooks", "ItemById"]


def test_a_refused_request_leaves_the_connection_open(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """The gateway's own answers (404, 500) read the whole request first, so the next request on
    the same connection is served."""

    def fail(_: dict[str, Any]) -> Any:
        raise RuntimeError("bug")

    recorder.results["Answer"] = fail
    client = connect(gateway)
    statuses = [request(gateway, "POST", "/nowhere", b"x" * 1000, connection=client).status]
    first_socket = client.sock
    statuses.append(request(gateway, "POST", "/answer", b"boom", connection=client).status)
    statuses.append(request(gateway, "POST", "/postbacks", b"fine", TEXT, connection=client).status)

    assert client.sock is first_socket
    client.close()
    assert statuses == [404, 500, 200]
    assert recorder.last["body"] == "fine"


def test_pipelined_requests_are_answered_in_order(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """RFC 9112 section 9.3.2: a server answers pipelined requests in the order received."""
    data = (
        head("/postbacks", "Content-Type: text/plain", "Content-Length: 3") + b"one"
        + head("/nowhere", "Content-Length: 3") + b"two"
        + head("/postbacks", "Content-Type: text/plain", "Transfer-Encoding: chunked")
        + b"5\r\nthree\r\n0\r\n\r\n"
        + head("/items/9", "Connection: close", method="GET")
    )  # fmt: skip

    replies = read_replies(raw_exchange(gateway, data, half_close=False))

    assert [reply.status for reply in replies] == [200, 404, 200, 200]
    assert replies[-1].headers["connection"] == "close"
    assert [event.get("body") for _, event in recorder.events] == ["one", "three", None]


@pytest.mark.parametrize(
    "data",
    [
        head("/postbacks", "Content-Type: text/plain", "Content-Length: 100") + b"<a>half</a>",
        head("/postbacks", "Content-Type: text/plain", "Transfer-Encoding: chunked")
        + b"20\r\n<a>only part of a chunk",
        head("/postbacks", "Content-Type: text/plain", "Transfer-Encoding: chunked")
        + b"c\r\n<a>whole</a>\r\n",
        head("/postbacks", "Content-Type: text/plain", "Transfer-Encoding: chunked")
        + b"c\r\n<a>whole</a>\r\n0\r\n",
    ],
    ids=["content-length", "mid-chunk", "no-last-chunk", "no-final-line"],
)
def test_a_body_cut_off_never_reaches_the_function(
    gateway: LocalGateway, recorder: Recorder, data: bytes
) -> None:
    """A client that hangs up before the end of the body it announced sent no request (RFC 9112
    section 8: an incomplete message): the function is not called with the part that came."""
    received = raw_exchange(gateway, data)

    assert received == b"", "nobody is left to answer"
    assert recorder.events == []
    assert request(gateway, "POST", "/postbacks", b"next").status == 200


@pytest.mark.parametrize(
    ("lines", "body", "status"),
    [
        (["Content-Length: 4", "Transfer-Encoding: chunked"], b"4\r\nabcd\r\n0\r\n\r\n", 400),
        (["Content-Length: four"], b"abcd", 400),
        (["Content-Length: 4", "Content-Length: 5"], b"abcd", 400),
        (["Transfer-Encoding: chunked"], b"zz\r\nabcd\r\n0\r\n\r\n", 400),
        (["Transfer-Encoding: chunked"], b"2\r\nabcd\r\n0\r\n\r\n", 400),
        (["Transfer-Encoding: gzip, chunked"], b"4\r\nabcd\r\n0\r\n\r\n", 501),
    ],
    ids=["both-framings", "bad-length", "two-lengths", "bad-chunk-size", "long-chunk", "gzip-te"],
)
def test_unreadable_framing_is_refused_and_the_connection_closed(
    gateway: LocalGateway, recorder: Recorder, lines: list[str], body: bytes, status: int
) -> None:
    """RFC 9112 sections 6.1 and 6.3: a request whose body length cannot be known is refused and
    the connection closed (a request with both framings is a smuggling attempt). AWS's exact
    bytes here are unknown: docs/local.md."""
    (reply,) = read_replies(raw_exchange(gateway, head("/postbacks", *lines) + body))

    assert reply.status == status
    assert reply.headers["connection"] == "close"
    assert recorder.events == []


# 2. The event as API Gateway builds it (payload format 2.0).


def test_header_names_are_lower_cased_and_repeated_headers_joined_with_commas(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """AWS: "Duplicate headers are combined with commas and included in the headers field"; all
    header names are lower case (the live page's payload format section)
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html"""
    client = connect(gateway)
    client.putrequest("POST", "/postbacks")
    client.putheader("X-Repeated", "one")
    client.putheader("x-repeated", "two")
    client.putheader("X-Mixed-Case", "Value Kept")
    client.putheader("Content-Length", "0")
    client.endheaders()
    assert as_reply(client.getresponse()).status == 200
    client.close()

    headers = recorder.last["headers"]
    assert headers["x-repeated"] == "one,two"
    assert headers["x-mixed-case"] == "Value Kept"
    assert all(name == name.lower() for name in headers)


def test_cookie_headers_become_cookies(gateway: LocalGateway, recorder: Recorder) -> None:
    """AWS: "All cookie headers in the request are combined with commas and added to the cookies
    field", one element per cookie; observed: the `cookie` header itself is left out of
    `headers`, and `cookies` is absent when there are none.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html"""
    client = connect(gateway)
    client.putrequest("GET", "/items/1")
    client.putheader("Cookie", "a=1; b=two")
    client.putheader("Cookie", "c=3")
    client.endheaders()
    assert as_reply(client.getresponse()).status == 200
    with_cookies = recorder.last
    request(gateway, "GET", "/items/2", connection=client)
    client.close()

    assert with_cookies["cookies"] == ["a=1", "b=two", "c=3"]
    assert "cookie" not in with_cookies["headers"]
    assert "cookies" not in recorder.last


def test_the_query_string_is_passed_as_sent_and_repeated_parameters_joined(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """`rawQueryString` is the query as sent; "Duplicate query strings are combined with commas
    and included in the queryStringParameters field"; values are decoded ("API Gateway decodes
    URL-encoded request parameters", http-api-develop-routes.html).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html"""
    query = "token=abc&kind=call&kind=text&flag&path=%2Fa%3Fb&name=J%C3%BCrgen%20M"
    with urllib.request.urlopen(f"{gateway.url}/postbacks?{query}", data=b"x", timeout=30) as sent:
        assert sent.status == 200

    assert recorder.last["rawQueryString"] == query
    assert recorder.last["queryStringParameters"] == {
        "token": "abc",
        "kind": "call,text",
        "flag": "",
        "path": "/a?b",
        "name": "Jürgen M",
    }


def test_without_a_query_string_there_are_no_parameters(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """Observed (captured events): `rawQueryString` is "" and `queryStringParameters` absent."""
    request(gateway, "POST", "/postbacks", b"x")

    assert recorder.last["rawQueryString"] == ""
    assert "queryStringParameters" not in recorder.last


@pytest.mark.parametrize(
    ("content_type", "as_text"),
    [
        ("text/xml", True),
        ("text/plain; charset=utf-8", True),
        ("Application/XML", True),
        ("application/json; charset=UTF-8", True),
        ("application/javascript", True),
        (None, False),
        ("application/x-www-form-urlencoded", False),
        ("application/octet-stream", False),
        ("image/png", False),
    ],
)
def test_the_body_is_text_or_base64_by_its_content_type(
    gateway: LocalGateway, recorder: Recorder, content_type: str | None, as_text: bool
) -> None:
    """AWS: "If the content type of the request is binary, the body is base64-encoded" and
    `isBase64Encoded` says so (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html,
    the same payload format). Which types are text is observed against a deployed HTTP API:
    `text/*`, application/json, /xml and /javascript; everything else, a missing Content-Type and
    form-urlencoded too, is base64 (docs/local.md)."""
    body = "<r>caf\u00e9 &amp; more</r>".encode()
    headers = {"Content-Type": content_type} if content_type else {}

    request(gateway, "POST", "/postbacks", body, headers)

    event = recorder.last
    assert event["isBase64Encoded"] is (not as_text)
    sent = event["body"].encode() if as_text else base64.b64decode(event["body"])
    assert sent == body


def test_text_that_is_not_utf8_travels_base64_whole(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """A local choice where AWS's behaviour is unknown (docs/local.md): bytes a text type
    announces but that are not UTF-8 arrive base64-encoded, every byte kept."""
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><r>caf\xe9</r>'.encode("latin-1")

    request(gateway, "POST", "/postbacks", body, {"Content-Type": "text/xml"})

    assert recorder.last["isBase64Encoded"] is True
    assert base64.b64decode(recorder.last["body"]) == body


def test_a_gzip_body_arrives_as_sent(gateway: LocalGateway, recorder: Recorder) -> None:
    """Unverified (docs/local.md): an HTTP API does not inflate request bodies; the bytes and the
    `content-encoding` header reach the function as sent."""
    body = gzip.compress(b"<r>compressed</r>")

    request(
        gateway,
        "POST",
        "/postbacks",
        body,
        {"Content-Type": "text/xml", "Content-Encoding": "gzip"},
    )

    assert recorder.last["headers"]["content-encoding"] == "gzip"
    assert base64.b64decode(recorder.last["body"]) == body


def test_a_request_without_a_body_has_no_body_field(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """Observed (a captured GET event): no `body` key, `content-length: 0`, and
    `isBase64Encoded: true` with no Content-Type."""
    request(gateway, "GET", "/items/5")

    event = recorder.last
    assert "body" not in event
    assert event["headers"]["content-length"] == "0"
    assert event["isBase64Encoded"] is True


def test_the_request_context(gateway: LocalGateway, recorder: Recorder) -> None:
    """The payload format's fields
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
    `time` is CLF and `timeEpoch` epoch milliseconds (the doc's example), `sourceIp` is the
    address of the TCP connection and `domainName` the Host header
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html);
    observed: `requestId` is 15 URL-safe characters and `=`, the same as the `apigw-requestid`
    answer header."""
    reply = request(
        gateway, "POST", "/postbacks?x=1", b"x", {"User-Agent": "CallFire/1.0", "Host": "api.test"}
    )

    event = recorder.last
    context = event["requestContext"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == context["routeKey"] == "POST /postbacks"
    assert event["rawPath"] == "/postbacks"
    assert REQUEST_ID.fullmatch(context["requestId"])
    assert reply.headers["apigw-requestid"] == context["requestId"]
    assert context["http"] == {
        "method": "POST",
        "path": "/postbacks",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "CallFire/1.0",
    }
    assert context["stage"] == "$default"
    assert context["timeEpoch"] == 1583348638390
    assert context["time"] == "04/Mar/2020:19:03:58 +0000"
    assert context["domainName"] == "api.test"
    assert context["domainPrefix"] == "api"
    assert re.fullmatch(r"[0-9]{12}", context["accountId"])
    assert context["apiId"]
    assert "pathParameters" not in event
    assert "stageVariables" not in event


def test_headers_api_gateway_adds(gateway: LocalGateway, recorder: Recorder) -> None:
    """Observed (captured events): `x-forwarded-for` (a proxy in front appends to the client's),
    `x-forwarded-port`, `x-forwarded-proto` and `x-amzn-trace-id` are added; locally the scheme is
    http (docs/local.md)."""
    request(gateway, "POST", "/postbacks", b"x", {"X-Forwarded-For": "198.51.100.7"})

    headers = recorder.last["headers"]
    assert headers["x-forwarded-for"] == "198.51.100.7, 127.0.0.1"
    assert headers["x-forwarded-port"] == str(gateway.port)
    assert headers["x-forwarded-proto"] == "http"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["x-amzn-trace-id"])


def test_the_path_is_decoded_except_percent_25(gateway: LocalGateway, recorder: Recorder) -> None:
    """Observed (medium confidence, docs/local.md): `rawPath`, `http.path` and path parameters are
    percent-decoded, except `%25`."""
    request(gateway, "GET", "/files/a%20b/%C3%A9t%C3%A9/100%25")

    event = recorder.last
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/files/a b/été/100%25"
    assert event["pathParameters"] == {"path": "a b/été/100%25"}


@pytest.mark.parametrize(
    ("sent", "route_key", "parameters"),
    [
        ("GET /items/latest", "GET /items/latest", None),
        ("GET /items/7", "GET /items/{id}", {"id": "7"}),
        ("DELETE /items/7", "ANY /items/{id}", {"id": "7"}),
        ("GET /files/a/b/c.mp3", "GET /files/{path+}", {"path": "a/b/c.mp3"}),
        ("POST /webhooks", "POST /webhooks", None),
    ],
)
def test_each_request_goes_to_the_route_that_matches_it_best(
    gateway: LocalGateway,
    recorder: Recorder,
    sent: str,
    route_key: str,
    parameters: dict[str, str] | None,
) -> None:
    """The most specific route takes the request: a full match before a greedy `{proxy+}` one,
    and `ANY` for the methods a resource does not define.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html"""
    method, path = sent.split()
    reply = request(gateway, method, path)

    assert reply.status == 200
    function, event = recorder.events[-1]
    assert function == ROUTES[route_key]
    assert event["routeKey"] == event["requestContext"]["routeKey"] == route_key
    assert event.get("pathParameters") == parameters


def test_the_default_route_takes_what_no_route_matches(recorder: Recorder) -> None:
    """AWS: "The $default route catches requests that don't explicitly match other routes", with
    routeKey `$default`.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html"""
    routes = {"POST /postbacks": "Postbacks", "$default": "Fallback"}
    with LocalGateway(routes, recorder) as gateway:
        reply = request(gateway, "PATCH", "/anything/at/all?q=1", b"x")

    assert reply.status == 200
    function, event = recorder.events[-1]
    assert function == "Fallback"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/anything/at/all"


def test_a_named_stage_is_served_under_its_prefix(recorder: Recorder) -> None:
    """A stage other than `$default` is reached at `/{stage}/...` (documented: "You can create a
    $default stage that is served from the base of your API's URL",
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html); observed:
    `rawPath` keeps the stage prefix."""
    routes = {"GET /items/{id}": GatewayRoute("ItemById", stage="prod")}
    with LocalGateway(routes, recorder) as gateway:
        staged = request(gateway, "GET", "/prod/items/4")
        unstaged = request(gateway, "GET", "/items/4")

    assert (staged.status, unstaged.status) == (200, 404)
    ((_, event),) = recorder.events
    assert event["rawPath"] == "/prod/items/4"
    assert event["requestContext"]["stage"] == "prod"
    assert event["pathParameters"] == {"id": "4"}


# 3. API Gateway's own answers.


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/elsewhere"), ("GET", "/postbacks"), ("POST", "/postbacks/"), ("PUT", "/webhooks")],
)
def test_an_unknown_route_or_method_is_not_found(
    gateway: LocalGateway, recorder: Recorder, method: str, path: str
) -> None:
    """With no matching route and no `$default` route the HTTP API answers
    `{"message":"Not Found"}` with 404; an unrouted method is answered the same (observed: not
    REST's 403 or a 405).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html"""
    reply = request(gateway, method, path, b"<x/>")

    assert (reply.status, reply.body) == (404, b'{"message":"Not Found"}')
    assert reply.headers["content-type"] == "application/json"
    assert REQUEST_ID.fullmatch(reply.headers["apigw-requestid"])
    assert recorder.events == []


def test_a_body_announced_over_the_quota_is_refused_before_the_function(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """AWS: "Payload size | 10 MB"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html); the
    answer's body is AWS's own emulator's (unverified, docs/local.md)."""
    data = head("/postbacks", "Content-Type: text/plain", f"Content-Length: {TEN_MB + 1}")

    (reply,) = read_replies(raw_exchange(gateway, data))

    assert (reply.status, reply.json()) == (413, {"message": "Request Entity Too Large"})
    assert recorder.events == []


def test_a_request_head_over_the_quota_is_refused_before_the_function(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """AWS: "Total combined size of request line and header values | 10240 bytes"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html); the
    status (431, Request Header Fields Too Large) and body AWS answers are unverified
    (docs/local.md)."""
    small = request(gateway, "POST", "/postbacks", b"x", {"X-Padding": "p" * 9000})
    large = request(gateway, "POST", "/postbacks", b"x", {"X-Padding": "p" * 10240})

    assert small.status == 200
    assert (large.status, large.json()) == (431, {"message": "Request Header Fields Too Large"})
    assert len(recorder.events) == 1


def test_a_chunked_body_over_the_quota_is_refused_before_the_function(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """The same quota on the body once de-chunked: no length is announced, so the gateway counts
    as it reads, and stops at the quota."""
    megabyte = b"x" * (1024 * 1024)
    client = connect(gateway)
    client.request(
        "POST",
        "/postbacks",
        body=iter([megabyte] * 11),
        headers={"Content-Type": "text/plain"},
        encode_chunked=True,
    )
    reply = as_reply(client.getresponse())
    client.close()

    assert (reply.status, reply.json()) == (413, {"message": "Request Entity Too Large"})
    assert recorder.events == []


def test_a_body_whose_event_exceeds_lambdas_payload_quota_is_refused(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """Under the HTTP API's 10 MB but over Lambda's: "For synchronous invocations, the maximum
    payload size is 6 MB" (https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html). A binary
    body grows by a third in base64. The 413 body is unverified (docs/local.md)."""
    body = b"\x00" * (5 * 1024 * 1024)

    reply = request(
        gateway, "POST", "/postbacks", body, {"Content-Type": "application/octet-stream"}
    )

    assert (reply.status, reply.json()) == (413, {"message": "Request Entity Too Large"})
    assert recorder.events == []


def test_a_function_that_raises_is_an_internal_server_error(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """Observed and named by the troubleshooting page: a function error gives 500
    `{"message":"Internal Server Error"}` (not REST's 502).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html"""

    def fail(_: dict[str, Any]) -> Any:
        raise ValueError("a bug in the function")

    recorder.results["Answer"] = fail

    reply = request(gateway, "POST", "/answer", b"x")

    assert (reply.status, reply.body) == (500, b'{"message":"Internal Server Error"}')
    assert reply.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": 0, "body": "x"},
        {"statusCode": 200.5, "body": "x"},
        {"statusCode": "200", "body": "x"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": ["x-a: b"], "body": "x"},
        {"statusCode": 200, "headers": {"x-a": {"b": 1}}, "body": "x"},
        {"statusCode": 200, "cookies": "a=1", "body": "x"},
        {"statusCode": 200, "isBase64Encoded": True, "body": "%%% not base64"},
        {"statusCode": 200, "body": "x" * (6 * 1024 * 1024)},
        {"statusCode": 200, "body": object()},
    ],
    ids=[
        "zero-status", "float-status", "string-status", "object-body", "list-headers",
        "object-header", "string-cookies", "bad-base64", "over-6-mb", "not-json",
    ],
)  # fmt: skip
def test_a_malformed_result_is_an_internal_server_error(
    gateway: LocalGateway, recorder: Recorder, result: dict[str, Any]
) -> None:
    """Observed (snapshots of a deployed HTTP API: statusCode 0 or a float) and documented in
    part: a result not in "the required format" gives 500 `{"message":"Internal Server Error"}`.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html"""
    recorder.results["Answer"] = lambda _: result

    reply = request(gateway, "POST", "/answer", b"x")

    assert (reply.status, reply.body) == (500, b'{"message":"Internal Server Error"}')


@pytest.mark.parametrize(
    ("result", "body"),
    [
        ({"message": "Hello from Lambda!"}, b'{"message": "Hello from Lambda!"}'),
        ("Hello from Lambda!", b"Hello from Lambda!"),
    ],
)
def test_a_result_without_status_code_is_the_body_of_a_json_200(
    gateway: LocalGateway, recorder: Recorder, result: Any, body: bytes
) -> None:
    """AWS: "if your Lambda function returns valid JSON and doesn't return a statusCode":
    `statusCode` is 200, content-type application/json, and body the function's response.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html"""
    recorder.results["Answer"] = lambda _: result

    reply = request(gateway, "POST", "/answer", b"x")

    assert (reply.status, reply.headers["content-type"], reply.body) == (
        200,
        "application/json",
        body,
    )


def test_a_status_code_without_content_type_is_plain_text(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """Observed (snapshot of a deployed HTTP API): with a statusCode and no Content-Type the
    answer is `text/plain; charset=utf-8`; the headers given pass through as they are."""
    recorder.results["Answer"] = lambda _: {
        "statusCode": 201,
        "headers": {"X-Multi": "a,b", "X-Number": 5},
        "body": "created",
    }

    reply = request(gateway, "POST", "/answer", b"x")

    assert (reply.status, reply.body) == (201, b"created")
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert (reply.headers["x-multi"], reply.headers["x-number"]) == ("a,b", "5")


def test_result_cookies_become_set_cookie_headers(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """AWS: "In the response to the client, each cookie becomes a set-cookie header"; observed:
    those come before a Set-Cookie the headers hold.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html"""
    recorder.results["Answer"] = lambda _: {
        "statusCode": 200,
        "cookies": ["a=1", "b=2; Path=/; HttpOnly"],
        "headers": {"Set-Cookie": "c=3"},
        "body": "",
    }
    client = connect(gateway)
    client.request("POST", "/answer", body=b"x")
    response = client.getresponse()
    response.read()
    client.close()

    cookies = [value for name, value in response.getheaders() if name.lower() == "set-cookie"]
    assert cookies == ["a=1", "b=2; Path=/; HttpOnly", "c=3"]


def test_a_base64_result_is_decoded_and_framing_headers_are_the_gateways(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    """Observed: the HTTP API decodes the body whenever `isBase64Encoded` is true; the framing
    headers are its own (`transfer-encoding` and `content-length` are reserved:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html)."""
    payload = bytes(range(256))
    recorder.results["Answer"] = lambda _: {
        "statusCode": 200,
        "isBase64Encoded": True,
        "headers": {
            "content-type": "application/octet-stream",
            "transfer-encoding": "chunked",
            "content-length": "1",
        },
        "body": base64.b64encode(payload).decode(),
    }

    reply = request(gateway, "POST", "/answer", b"x")

    assert reply.body == payload
    assert reply.headers["content-length"] == "256"
    assert "transfer-encoding" not in reply.headers


# The template's own settings: stage throttle, function timeout.


@pytest.fixture
def template_routes(resources: LocalResources) -> dict[str, Any]:
    return resources.http_routes()


def test_the_stage_throttle_from_the_template_answers_429_when_exceeded(
    template: dict[str, Any], template_routes: dict[str, Any], recorder: Recorder
) -> None:
    """AWS: "API Gateway throttles requests to your API using the token bucket algorithm, where a
    token counts for a request"; clients "may receive 429 Too Many Requests"; the body is the one
    community gateways give (unverified, docs/local.md). The bucket holds the stage's burst and
    refills at its rate: the test's clock stands still, then moves one token's worth.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html"""
    (stage,) = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ApiGatewayV2::Stage"
    ]
    declared = stage["DefaultRouteSettings"]
    route = template_routes[f"POST {Route.POSTBACKS}"]
    assert route.throttle == Throttle(
        declared["ThrottlingRateLimit"], declared["ThrottlingBurstLimit"]
    )
    burst, rate = route.throttle.burst_limit, route.throttle.rate_limit
    clock = ManualClock()

    with LocalGateway.for_routes(template_routes, recorder, clock=clock) as gateway:
        client = connect(gateway)
        statuses = [
            request(gateway, "POST", Route.POSTBACKS, b"x", connection=client).status
            for _ in range(burst)
        ]
        throttled = request(gateway, "POST", Route.POSTBACKS, b"x", connection=client)
        clock.advance(1 / rate)
        refilled = request(gateway, "POST", Route.POSTBACKS, b"x", connection=client).status
        again = request(gateway, "POST", Route.POSTBACKS, b"x", connection=client).status
        client.close()

    assert statuses == [200] * burst
    assert (throttled.status, throttled.body) == (429, b'{"message":"Too Many Requests"}')
    assert (refilled, again) == (200, 429)
    assert len(recorder.events) == burst + 1


def test_route_settings_override_the_stage_default_limit_by_limit(
    resources: LocalResources,
) -> None:
    """`RouteSettings` for a route key override the stage's `DefaultRouteSettings`, each limit on
    its own; a limit neither sets is the account's (10,000 per second, burst 5,000:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-apigatewayv2-stage-routesettings.html"""
    template = json.loads(json.dumps(resources.template))
    (stage,) = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ApiGatewayV2::Stage"
    ]
    stage["DefaultRouteSettings"] = {"ThrottlingRateLimit": 50}
    stage["RouteSettings"] = {f"POST {Route.POSTBACKS}": {"ThrottlingBurstLimit": 7}}
    changed = dataclasses.replace(resources, template=template)

    route = changed.http_routes()[f"POST {Route.POSTBACKS}"]

    assert route.throttle == Throttle(rate_limit=50.0, burst_limit=7)


BLOCKED = threading.Event()
RELEASE = threading.Event()


def blocking_handler(event: dict[str, Any], _: Any) -> dict[str, Any]:
    """A function that never finishes while the test holds RELEASE, for a "slow" body."""
    if event.get("body") == "slow":
        BLOCKED.set()
        RELEASE.wait(60)
    return {"statusCode": 200, "body": event.get("body", "")}


def test_a_function_past_its_timeout_is_an_internal_server_error_and_blocks_nothing(
    resources: LocalResources,
) -> None:
    """Lambda stops an invocation at the function's timeout (here the template's, for the
    postback function: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html);
    API Gateway then has a function error, answered 500 `{"message":"Internal Server Error"}`
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html;
    the 503 of an integration timeout cannot happen: see the next test). The local gateway cannot
    stop the handler's thread, but the next request to the function does not wait for it."""
    BLOCKED.clear()
    RELEASE.clear()
    function = resources.function_for_handler(Handler.POSTBACK)
    slow = dataclasses.replace(function, handler=f"{__name__}.blocking_handler")
    waited: list[float] = []

    def wait(done: threading.Event, seconds: float) -> bool:
        """The first invocation's time runs out once it is blocked; the others finish."""
        waited.append(seconds)
        if len(waited) == 1:
            assert BLOCKED.wait(60)
            return False
        return done.wait(60)

    runner = FunctionRunner({function.logical_id: slow}, REGION, wait=wait)
    routes = {f"POST {Route.POSTBACKS}": function.logical_id}
    try:
        with LocalGateway(routes, runner.invoke) as gateway:
            client = connect(gateway)
            timed_out = request(gateway, "POST", Route.POSTBACKS, b"slow", TEXT, connection=client)
            following = request(gateway, "POST", Route.POSTBACKS, b"fast", TEXT, connection=client)
            client.close()
            still_blocked = not RELEASE.is_set()
    finally:
        RELEASE.set()

    assert waited == [function.timeout, function.timeout]
    assert (timed_out.status, timed_out.body) == (500, b'{"message":"Internal Server Error"}')
    assert still_blocked
    assert (following.status, following.body) == (200, b"fast")


def test_each_routed_function_times_out_before_its_integration(
    template_routes: dict[str, Any],
) -> None:
    """An HTTP API answers 503 when the integration's timeout (at most and by default 30 s,
    `TimeoutInMillis`) passes before the function answers (observed); the product keeps every
    routed function's timeout below it, so a slow function is always the 500 above.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"""
    assert template_routes
    for route in template_routes.values():
        assert route.function.timeout * 1000 < route.integration_timeout_ms, route.route_key


# The real postback handler behind the template's route.


@pytest.fixture
def served(resources: LocalResources, postback: PostbackClient) -> Iterator[LocalGateway]:
    runner = FunctionRunner(resources.functions(), REGION)
    with LocalGateway.for_routes(resources.http_routes(), runner.invoke) as gateway:
        yield gateway


def stored_call(aws: Callable[[str], Any], postback: PostbackClient, call_id: str) -> Any:
    item = (
        aws("dynamodb")
        .get_item(
            TableName=postback.outputs[Output.CALLS_TABLE],
            Key={"callId": {"S": call_id}, "eventType": {"S": "call"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return None if item is None else TypeDeserializer().deserialize({"M": item})


def fresh_report() -> tuple[bytes, str]:
    call_id = str(uuid.uuid4().int)[:12]
    return event_body("call_finished.xml").replace(b"111111", call_id.encode()), call_id


def test_a_chunked_report_is_stored_by_the_real_handler(
    served: LocalGateway, postback: PostbackClient, aws: Callable[[str], Any]
) -> None:
    """The issue's bug: a report sent with `Transfer-Encoding: chunked` (as Java and Go clients
    stream a body of unknown length) was answered `400 not_well_formed` for an empty body."""
    body, call_id = fresh_report()
    client = connect(served)
    client.request(
        "POST",
        f"{Route.POSTBACKS}?{Route.TOKEN_PARAMETER}={postback.token}",
        body=iter([body[:100], body[100:]]),
        headers={"Content-Type": "text/xml"},
        encode_chunked=True,
    )
    reply = as_reply(client.getresponse())
    client.close()

    assert (reply.status, reply.json()["status"]) == (200, "stored")
    assert stored_call(aws, postback, call_id)["raw"] == body.decode()


@curl
def test_curls_default_form_content_type_is_stored_from_base64(
    served: LocalGateway, postback: PostbackClient, aws: Callable[[str], Any], tmp_path: Path
) -> None:
    """`curl --data-binary` sends form-urlencoded when told no type, which an HTTP API delivers
    base64-encoded (observed, docs/local.md): the handler reads it the same."""
    body, call_id = fresh_report()
    sample = tmp_path / "report.xml"
    sample.write_bytes(body)
    url = f"{served.url}{Route.POSTBACKS}?{Route.TOKEN_PARAMETER}={postback.token}"

    result = subprocess.run(
        [CURL, "-sS", "--data-binary", f"@{sample}", url],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert json.loads(result.stdout)["status"] == "stored", result.stderr
    assert stored_call(aws, postback, call_id)["raw"] == body.decode()
