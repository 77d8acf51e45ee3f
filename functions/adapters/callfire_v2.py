"""CallFire's v2 webhooks API over the standard library's urllib: JSON, HTTP Basic auth with the
API credentials, certificates verified, no proxy, no redirect followed, answers read up to a bound.
Update and delete succeed with any 2xx (CallFire documents neither code; its samples show 200 for
an update, its API guide 204 for a delete)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from functions.credentials import Credentials
from functions.names import CallfireV2
from functions.webhook_registration.ports import CallfireRefused, CallfireUnavailable

MAX_ANSWER_BYTES = 1024 * 1024
PAGE = 100
MAX_PAGES = 50
USER_AGENT = "callfire-receiver (webhooks)"
TIMEOUT_SECONDS = 10.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


class CallfireV2Webhooks:
    def __init__(
        self, base_url: str, credentials: Credentials, *, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self._url = base_url.rstrip("/") + CallfireV2.WEBHOOKS_PATH
        self._authorization = credentials.authorization
        self._timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())

    def find(self, name: str) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        for page in range(MAX_PAGES):
            query = urlencode({"name": name, "limit": PAGE, "offset": page * PAGE})
            answer = self._request("GET", f"{self._url}?{query}")
            items = answer.get("items") if isinstance(answer, dict) else None
            if not isinstance(items, list):
                raise CallfireRefused(200, "CallFire's list of webhooks has no items")
            found += [item for item in items if isinstance(item, dict) and item.get("name") == name]
            if len(items) < PAGE:
                break
        return found

    def create(self, body: Mapping[str, Any]) -> int:
        answer = self._request("POST", self._url, body)
        webhook_id = answer.get("id") if isinstance(answer, dict) else None
        if type(webhook_id) is not int:
            raise CallfireRefused(201, "CallFire's answer to a create has no id")
        return webhook_id

    def update(self, webhook_id: int, body: Mapping[str, Any]) -> None:
        self._request("PUT", f"{self._url}/{webhook_id}", body)

    def delete(self, webhook_id: int) -> None:
        try:
            self._request("DELETE", f"{self._url}/{webhook_id}")
        except CallfireRefused as error:
            if error.status != 404:
                raise

    def _request(self, method: str, url: str, body: Mapping[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - the base URL is checked to be http(s)
            url,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": self._authorization,
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return _json(response.read(MAX_ANSWER_BYTES))
        except urllib.error.HTTPError as error:
            with error:
                raise _failure(error.code, _read(error)) from None
        except urllib.error.URLError as error:
            raise CallfireUnavailable(
                f"CallFire could not be reached ({_describe(error.reason)})"
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise CallfireUnavailable(
                f"CallFire could not be reached ({_describe(error)})"
            ) from None


def _json(data: bytes) -> Any:
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(MAX_ANSWER_BYTES)
    except (OSError, http.client.HTTPException):
        return b""


def _failure(status: int, data: bytes) -> Exception:
    answer = _json(data)
    said = ""
    if isinstance(answer, dict) and isinstance(answer.get("message"), str):
        text = " ".join(answer["message"].split())[:200]
        said = f' and said "{text}"'
    if status == 429 or status >= 500 or status == 408:
        return CallfireUnavailable(f"CallFire answered HTTP {status}{said}")
    return CallfireRefused(status, f"CallFire answered HTTP {status}{said}")


def _describe(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return type(reason).__name__
