"""A threaded stdlib HTTP server that runs in the background until stopped, and the HTTP/1.1
request framing the stdlib leaves to its handlers: `Content-Length` and chunked request bodies
read whole, within a limit, and never a shorter body when the client hangs up mid-way
(RFC 9112 section 6)."""

from __future__ import annotations

import re
import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import BinaryIO, Self

MAX_CHUNK_LINE = 4096
"""Longest chunk-size line (with its extensions) or trailer line read."""
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,20}")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    """Connections the kernel holds until they are accepted (socketserver's default is 5): a
    burst of senders opening connections at once must wait for a thread, not be refused."""


class BackgroundHttpServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str, port: int) -> None:
        self._server = _Server((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class BodyRefused(Exception):
    """The request's framing cannot be accepted: answer `status`, then close the connection
    (the rest of the body, if any, was not read)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class BodyIncomplete(Exception):
    """The client stopped sending (closed or timed out) before the end of the body it announced:
    there is no request to answer, and no shorter body may be taken for the whole."""


def declared_length(headers: Message) -> int | None:
    """The body length `Content-Length` announces, or None when there is none (or the body is
    chunked). Raises BodyRefused for a value that is not one decimal number."""
    if headers.get_all("Transfer-Encoding"):
        return None
    values = {value.strip() for value in headers.get_all("Content-Length") or []}
    if not values:
        return None
    if len(values) > 1 or not _DIGITS.fullmatch(next(iter(values))):
        raise BodyRefused(400, "invalid Content-Length")
    return int(next(iter(values)))


def read_body(headers: Message, stream: BinaryIO, limit: int) -> bytes:
    """The whole request body, chunked or not, at most `limit` bytes once decoded.

    Raises BodyRefused (bad framing, or over `limit`) and BodyIncomplete (the stream ended or
    timed out before the body did)."""
    encodings = headers.get_all("Transfer-Encoding")
    if encodings:
        if headers.get_all("Content-Length"):
            # RFC 9112 6.1: a request with both is a smuggling vector; refusing it is allowed.
            raise BodyRefused(400, "both Transfer-Encoding and Content-Length")
        codings = [coding.strip().lower() for value in encodings for coding in value.split(",")]
        if codings != ["chunked"]:
            raise BodyRefused(501, "only the chunked transfer coding is understood")
        return _read_chunked(stream, limit)
    length = declared_length(headers) or 0
    if length > limit:
        raise BodyRefused(413, "body over the limit")
    return _read_exactly(stream, length)


def _read_exactly(stream: BinaryIO, length: int) -> bytes:
    try:
        body = stream.read(length) if length else b""
    except (TimeoutError, ConnectionError) as error:
        raise BodyIncomplete from error
    if len(body) < length:
        raise BodyIncomplete
    return body


def _read_line(stream: BinaryIO) -> bytes:
    try:
        line = stream.readline(MAX_CHUNK_LINE + 1)
    except (TimeoutError, ConnectionError) as error:
        raise BodyIncomplete from error
    if len(line) > MAX_CHUNK_LINE:
        raise BodyRefused(400, "chunk line too long")
    if not line.endswith(b"\n"):
        raise BodyIncomplete
    return line.rstrip(b"\r\n")


def _read_chunked(stream: BinaryIO, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_text = _read_line(stream).split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise BodyRefused(400, "invalid chunk size")
        size = int(size_text, 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise BodyRefused(413, "body over the limit")
        parts.append(_read_exactly(stream, size))
        if _read_line(stream) != b"":
            raise BodyRefused(400, "chunk data longer than its size")
    trailer_bytes = 0
    while line := _read_line(stream):  # trailer fields, dropped, up to the empty line
        trailer_bytes += len(line)
        if trailer_bytes > MAX_CHUNK_LINE:
            raise BodyRefused(400, "trailer too long")
    return b"".join(parts)
