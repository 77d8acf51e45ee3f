"""A stand-in for CallFire on this machine: the legacy report subscription endpoints and recording
files, over real HTTP, with canned answers that tests can script (failures, slowness, redirects,
large bodies). `make local`, `make demo` and the tests run against it."""

from __future__ import annotations

import re
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from local.http_server import BackgroundHttpServer

SUBSCRIBE_PATH = re.compile(r"^/cloud/1/reports/callback/(callfinish|campaignfinish)(?:/(\d+))?/?$")
RECORDING_PATH = re.compile(r"^/cloud/1/files/recording/(?P<id>[^/]*)(?P<mp3>/mp3)?/?$")

SAVED = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes">\n'
    b"<reportresponse>\n<description>Saved</description>\n<success>true</success>\n</reportresponse>"
)
"""CallFire's answer exactly as its document prints it (the declaration lacks its closing `?`)."""


def report_response(description: str, success: bool) -> bytes:
    flag = "true" if success else "false"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<reportresponse><description>{description}</description>"
        f"<success>{flag}</success></reportresponse>"
    ).encode()


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A valid 8-bit mono PCM WAV of silence."""
    frames = b"\x80" * int(seconds * rate)
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return header + fmt + b"data" + struct.pack("<I", len(frames)) + frames


def mp3_bytes(frames: int = 20) -> bytes:
    """An ID3 tag and MPEG-1 Layer III frame headers (silent frames), enough to be an MP3."""
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + frame * frames


@dataclass
class Canned:
    """One scripted answer. `body` may be bytes or a callable yielding chunks (streamed)."""

    status: int = 200
    body: bytes | Callable[[], Iterator[bytes]] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int | None = None
    """How many requests it answers before the default takes over again (None: all)."""


@dataclass(frozen=True)
class Subscription:
    kind: str
    campaign_id: str | None
    api_key: str
    post_url: str


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class StandInCallFire(BackgroundHttpServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.subscriptions: list[Subscription] = []
        self.requests: list[SeenRequest] = []
        self.recordings: dict[str, tuple[str, bytes | Callable[[], Iterator[bytes]]]] = {}
        self._canned: dict[tuple[str, str], Canned] = {}
        self._lock = threading.Lock()
        super().__init__(self._handler_class(), host, port)

    def reset(self) -> None:
        """Forget scripted answers, added recordings, subscriptions and requests seen."""
        with self._lock:
            self._canned.clear()
            self.recordings.clear()
            self.subscriptions.clear()
            self.requests.clear()

    def answer(self, method: str, path: str, canned: Canned) -> None:
        """Answer `method path` with `canned` instead of the default behaviour."""
        with self._lock:
            self._canned[(method.upper(), path)] = canned

    def add_recording(
        self, path: str, body: bytes | Callable[[], Iterator[bytes]], content_type: str
    ) -> str:
        """Serve `body` at `path`; the full URL."""
        with self._lock:
            self.recordings[path] = (content_type, body)
        return self.url + path

    def _take_canned(self, method: str, path: str) -> Canned | None:
        with self._lock:
            canned = self._canned.get((method, path))
            if canned is not None and canned.times is not None:
                canned.times -= 1
                if canned.times <= 0:
                    del self._canned[(method, path)]
            return canned

    def _default(self, method: str, path: str, form: dict[str, list[str]]) -> Canned:
        subscribe = SUBSCRIBE_PATH.match(path)
        if method == "POST" and subscribe:
            api_key = form.get("apikey", [""])[0]
            post_url = form.get("postUrl", [""])[0]
            if not api_key or not post_url:
                return Canned(body=report_response("apikey and postUrl are required", False))
            with self._lock:
                self.subscriptions.append(
                    Subscription(subscribe.group(1), subscribe.group(2), api_key, post_url)
                )
            return Canned(body=SAVED, headers={"Content-Type": "application/xml"})
        if method in ("GET", "HEAD") and path in self.recordings:
            content_type, body = self.recordings[path]
            return Canned(body=body, headers={"Content-Type": content_type})
        recording = RECORDING_PATH.match(path)
        if method in ("GET", "HEAD") and recording:
            if recording.group("mp3"):
                return Canned(body=mp3_bytes(), headers={"Content-Type": "audio/mpeg"})
            return Canned(body=wav_bytes(), headers={"Content-Type": "audio/x-wav"})
        return Canned(status=404, body=b"not found")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve("GET")

            def do_HEAD(self) -> None:
                self._serve("HEAD")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qs(parts.query)
                form = {**query, **parse_qs(body.decode("utf-8", "replace"))}
                with standin._lock:
                    standin.requests.append(
                        SeenRequest(method, parts.path, query, dict(self.headers.items()), body)
                    )
                canned = standin._take_canned(method, parts.path) or standin._default(
                    method, parts.path, form
                )
                if canned.delay:
                    time.sleep(canned.delay)
                try:
                    self._send(method, canned)
                except (BrokenPipeError, ConnectionResetError):
                    return

            def _send(self, method: str, canned: Canned) -> None:
                self.send_response(canned.status, HTTPStatus(canned.status).phrase)
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                if callable(canned.body):
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if method != "HEAD":
                        for chunk in canned.body():
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(canned.body)

            def log_message(self, *_: object) -> None:
                return

        return Handler
