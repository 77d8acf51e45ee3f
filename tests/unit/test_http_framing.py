"""The local gateway's request framing and throttle at their edges, where going through HTTP would
cost more than it shows (tests/integration/test_gateway_conformance.py covers them over HTTP)."""

from __future__ import annotations

import io
from email.message import Message

import pytest

from local.gateway import TokenBucket
from local.http_server import BodyIncomplete, BodyRefused, read_body
from local.resources import Throttle
from tests.fakes import ManualClock

LIMIT = 64


def headers(**fields: str) -> Message:
    message = Message()
    for name, value in fields.items():
        message[name.replace("_", "-")] = value
    return message


def chunked(body: bytes, size: int = 10) -> bytes:
    chunks = [body[start : start + size] for start in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_body_exactly_at_the_limit_is_read_and_one_byte_more_is_refused(framing: str) -> None:
    """The HTTP API's payload quota is a maximum: a body of exactly that size is taken."""

    def read(body: bytes) -> bytes:
        if framing == "length":
            return read_body(headers(Content_Length=str(len(body))), io.BytesIO(body), LIMIT)
        stream = io.BytesIO(chunked(body))
        return read_body(headers(Transfer_Encoding="chunked"), stream, LIMIT)

    assert read(b"x" * LIMIT) == b"x" * LIMIT
    with pytest.raises(BodyRefused) as refused:
        read(b"x" * (LIMIT + 1))
    assert refused.value.status == 413


def test_the_stream_after_a_body_is_left_for_the_next_request() -> None:
    stream = io.BytesIO(chunked(b"first body") + b"POST /next HTTP/1.1\r\n")

    assert read_body(headers(Transfer_Encoding="chunked"), stream, LIMIT) == b"first body"
    assert stream.read() == b"POST /next HTTP/1.1\r\n"


def test_a_request_without_framing_headers_has_no_body() -> None:
    assert read_body(headers(), io.BytesIO(b"GET /next HTTP/1.1\r\n"), LIMIT) == b""


@pytest.mark.parametrize("cut", [1, 5, 14, 20, 23, 28])
def test_a_chunked_body_cut_anywhere_is_incomplete(cut: int) -> None:
    whole = chunked(b"abcdefghij", size=4)  # 4\r\nabcd\r\n4\r\nefgh\r\n2\r\nij\r\n0\r\n\r\n

    with pytest.raises(BodyIncomplete):
        read_body(headers(Transfer_Encoding="chunked"), io.BytesIO(whole[:cut]), LIMIT)


def test_the_bucket_refills_at_its_rate_and_never_beyond_its_burst() -> None:
    """https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html"""
    clock = ManualClock()
    bucket = TokenBucket(Throttle(rate_limit=2.0, burst_limit=3), clock)

    first = [bucket.take() for _ in range(4)]
    clock.advance(0.5)
    after_one_token = [bucket.take(), bucket.take()]
    clock.advance(3600)
    after_an_hour = [bucket.take() for _ in range(4)]

    assert first == [True, True, True, False]
    assert after_one_token == [True, False]
    assert after_an_hour == [True, True, True, False]
