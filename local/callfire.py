"""A stand-in for CallFire on this machine: the legacy report subscription endpoints and recording
files, and the v2 API's webhooks (create, find, get, update, delete, with HTTP Basic auth) and
recordings; it sends signed v2 deliveries to the webhooks registered with it. Over real HTTP, with
canned answers that tests can script (failures, slowness, redirects, large bodies). `make local`,
`make demo` and the tests run against it."""

from __future__ import annotations

import base64
import json
import re
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from functions.names import CallfireV2
from functions.postback.signature import signature_of
from local.http_server import BackgroundHttpServer

SUBSCRIBE_PATH = re.compile(r"^/cloud/1/reports/callback/(callfinish|campaignfinish)(?:/(\d+))?/?$")
RECORDING_PATH = re.compile(r"^/cloud/1/files/recording/(?P<id>[^/]*)(?P<mp3>/mp3)?/?$")
WEBHOOK_PATH = re.compile(rf"^{CallfireV2.WEBHOOKS_PATH}(?:/(?P<id>\d+))?/?$")
V2_RECORDING_PATH = re.compile(rf"^{CallfireV2.RECORDINGS_PATH}/(?P<id>\d+)(?P<mp3>\.mp3)?$")
LOCAL_USERNAME = "local-api-user"
LOCAL_PASSWORD = "local-api-password"
FIRST_WEBHOOK_ID = 11646003
WEBHOOK_FIELDS = ("name", "resource", "events", "callback", "secret", "enabled", "singleUse",
                  "nonStrictSsl", "fields")  # fmt: skip

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
class Delivered:
    """A signed delivery the stand-in sent to a registered webhook, and the answer it got."""

    webhook_id: int
    callback: str
    body: bytes
    status: int
    answer: bytes


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class StandInCallFire(BackgroundHttpServer):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        username: str = LOCAL_USERNAME,
        password: str = LOCAL_PASSWORD,
    ) -> None:
        self.subscriptions: list[Subscription] = []
        self.requests: list[SeenRequest] = []
        self.recordings: dict[str, tuple[str, bytes | Callable[[], Iterator[bytes]]]] = {}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.recording_states: dict[str, str] = {}
        """v2 recordings by id: their state (`RECORDING`, `READY`, `ERROR`); READY if absent."""
        self.delivered: list[Delivered] = []
        self._authorization = (
            "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        )
        self._next_webhook_id = FIRST_WEBHOOK_ID
        self._canned: dict[tuple[str, str], Canned] = {}
        self._lock = threading.Lock()
        super().__init__(self._handler_class(), host, port)

    def reset(self) -> None:
        """Forget scripted answers, added recordings, subscriptions, webhooks and requests seen."""
        with self._lock:
            self._canned.clear()
            self.recordings.clear()
            self.subscriptions.clear()
            self.requests.clear()
            self.webhooks.clear()
            self.recording_states.clear()
            self.delivered.clear()

    def deliver(
        self, resource_type: str, event_type: str, resource: dict[str, Any], *, timestamp: int
    ) -> list[Delivered]:
        """As CallFire does: one delivery, signed with its secret, to every enabled webhook
        registered for `resource_type` and `event_type` (a single-use one is deleted after)."""
        with self._lock:
            matching = [
                dict(webhook)
                for webhook in self.webhooks.values()
                if webhook.get("enabled", True)
                and webhook.get("resource") == resource_type
                and event_type.lower() in {event.lower() for event in webhook.get("events", [])}
            ]
        sent = [self._post(webhook, event_type, resource, timestamp) for webhook in matching]
        with self._lock:
            for webhook in matching:
                if webhook.get("singleUse"):
                    self.webhooks.pop(webhook["id"], None)
            self.delivered.extend(sent)
        return sent

    def _post(
        self, webhook: dict[str, Any], event_type: str, resource: dict[str, Any], timestamp: int
    ) -> Delivered:
        event = {
            "timestamp": timestamp,
            "webhookId": webhook["id"],
            "resourceType": webhook["resource"],
            "eventType": event_type,
            "resource": resource,
        }
        body = json.dumps(
            {
                "timestamp": timestamp,
                "webhookId": webhook["id"],
                "webhookName": webhook.get("name"),
                "resourceType": webhook["resource"],
                "events": [event],
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if webhook.get("secret"):
            headers["X-CallFire-Signature"] = signature_of(webhook["secret"], body)
        request = urllib.request.Request(
            webhook["callback"], data=body, method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read()
        return Delivered(webhook["id"], webhook["callback"], body, status, answer)

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

    def _default(
        self,
        method: str,
        path: str,
        form: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Canned:
        if path.startswith("/v2/"):
            return self._v2(method, path, form, headers, body)
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

    def _v2(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Canned:
        if _header(headers, "Authorization") != self._authorization:
            return _error(401, "UNAUTHORIZED", "HTTP Basic authentication with API credentials")
        webhook = WEBHOOK_PATH.match(path)
        if webhook:
            return self._webhooks(method, webhook.group("id"), query, body)
        recording = V2_RECORDING_PATH.match(path)
        if recording and method in ("GET", "HEAD"):
            state = self.recording_states.get(recording.group("id"), "READY")
            if recording.group("mp3"):
                if state != "READY":
                    return _error(404, "NOT_FOUND", "the recording is not ready")
                return Canned(body=mp3_bytes(), headers={"Content-Type": "audio/mpeg"})
            return _json(
                {
                    "id": int(recording.group("id")),
                    "state": state,
                    "mp3Url": f"https://api.callfire.com/calls/recordings/{recording.group('id')}",
                }
            )
        return _error(404, "NOT_FOUND", "no such resource")

    def _webhooks(
        self, method: str, webhook_id: str | None, query: dict[str, list[str]], body: bytes
    ) -> Canned:
        with self._lock:
            if webhook_id is None and method == "GET":
                return _json(self._find_webhooks(query))
            if webhook_id is None and method == "POST":
                fields = _webhook_fields(body)
                missing = [
                    name
                    for name in ("name", "resource", "events", "callback")
                    if name not in fields
                ]
                if missing:
                    return _error(400, "BAD_REQUEST", f"missing {', '.join(missing)}")
                new_id = self._next_webhook_id
                self._next_webhook_id += 1
                now = int(time.time() * 1000)
                self.webhooks[new_id] = {
                    "id": new_id, "enabled": True, **fields, "createdAt": now, "updatedAt": now,
                }  # fmt: skip
                return _json({"id": new_id}, status=201)
            found = self.webhooks.get(int(webhook_id)) if webhook_id else None
            if found is None:
                return _error(404, "NOT_FOUND", "no such webhook")
            if method == "GET":
                return _json({k: v for k, v in found.items() if k != "secret"})
            if method == "PUT":
                found.update(_webhook_fields(body), updatedAt=int(time.time() * 1000))
                return Canned(status=200)
            if method == "DELETE":
                del self.webhooks[found["id"]]
                return Canned(status=204)
        return _error(405, "METHOD_NOT_ALLOWED", "not supported")

    def _find_webhooks(self, query: dict[str, list[str]]) -> dict[str, Any]:
        def wanted(webhook: dict[str, Any]) -> bool:
            for name in ("name", "resource", "callback"):
                if name in query and webhook.get(name) != query[name][0]:
                    return False
            if "event" in query and query["event"][0].lower() not in {
                event.lower() for event in webhook.get("events", [])
            }:
                return False
            enabled = query.get("enabled", [None])[0]
            return enabled is None or str(webhook.get("enabled", True)).lower() == enabled.lower()

        found = [
            {k: v for k, v in webhook.items() if k != "secret"}
            for webhook in self.webhooks.values()
            if wanted(webhook)
        ]
        limit = int(query.get("limit", ["100"])[0])
        offset = int(query.get("offset", ["0"])[0])
        return {
            "items": found[offset : offset + limit],
            "limit": limit,
            "offset": offset,
            "totalCount": len(found),
        }

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

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

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
                    method,
                    parts.path,
                    query if parts.path.startswith("/v2/") else form,
                    dict(self.headers.items()),
                    body,
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


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _json(value: Any, status: int = 200) -> Canned:
    return Canned(
        status=status, body=json.dumps(value).encode(), headers={"Content-Type": "application/json"}
    )


def _error(status: int, code: str, message: str) -> Canned:
    """CallFire v2's ErrorResponse."""
    return _json(
        {"httpStatusCode": status, "internalCode": code, "message": message}, status=status
    )


def _webhook_fields(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return {
        name: value[name] for name in WEBHOOK_FIELDS if isinstance(value, dict) and name in value
    }
