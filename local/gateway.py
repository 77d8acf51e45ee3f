"""The local API Gateway: an HTTP server that turns each request into an HTTP API (payload 2.0)
event, calls the function its route names, and turns the answer back into an HTTP response."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from local.events import http_api_event
from local.http_server import BackgroundHttpServer

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
"""API Gateway's HTTP API payload limit."""

Invoke = Callable[[str, dict[str, Any]], Any]


class LocalGateway(BackgroundHttpServer):
    def __init__(
        self,
        routes: dict[str, str],
        invoke: Invoke,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`routes` maps route keys (`POST /postbacks`) to the logical id of their function."""
        self._routes = routes
        self._invoke = invoke
        super().__init__(self._handler_class(), host, port)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PUT(self) -> None:
                self._route("PUT")

            def do_DELETE(self) -> None:
                self._route("DELETE")

            def _route(self, method: str) -> None:
                request_id = base64.urlsafe_b64encode(uuid.uuid4().bytes[:12]).decode()
                parts = urlsplit(self.path)
                function = gateway._routes.get(f"{method} {parts.path}")
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_PAYLOAD_BYTES:
                    self._answer(413, {"message": "Request Entity Too Large"}, request_id)
                    self.close_connection = True
                    return
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    self.close_connection = True
                    return
                if function is None:
                    self._answer(404, {"message": "Not Found"}, request_id)
                    return
                event = http_api_event(
                    method=method,
                    path=parts.path,
                    raw_query=parts.query,
                    headers=dict(self.headers.items()),
                    body=body,
                    source_ip=self.client_address[0],
                    request_id=request_id,
                )
                try:
                    response = gateway._invoke(function, event)
                except Exception:
                    self._answer(500, {"message": "Internal Server Error"}, request_id)
                    raise
                self._respond(response, request_id)

            def _respond(self, response: dict[str, Any], request_id: str) -> None:
                body = response.get("body") or ""
                payload = (
                    base64.b64decode(body)
                    if response.get("isBase64Encoded")
                    else body.encode("utf-8")
                )
                self.send_response(int(response.get("statusCode", 200)))
                for name, value in (response.get("headers") or {}).items():
                    self.send_header(name, str(value))
                self.send_header("apigw-requestid", request_id)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _answer(self, status: int, body: dict[str, str], request_id: str) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status, HTTPStatus(status).phrase)
                self.send_header("Content-Type", "application/json")
                self.send_header("apigw-requestid", request_id)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: object) -> None:
                return

        return Handler
