"""Form POSTs over the standard library's urllib: certificates verified, no proxy, no redirect
followed (urllib would turn a redirected POST into a GET without its form), answers read up to a
bound, and every failure without an HTTP answer reported as a timeout, connection or TLS error."""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request
from typing import Any

from functions.registration.ports import Failure, HttpAnswer, NoAnswer

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "callfire-receiver (report subscription)"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


class UrllibFormPoster:
    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())

    def post_form(self, url: str, form: bytes, *, timeout: float) -> HttpAnswer:
        request = urllib.request.Request(  # noqa: S310 - the caller checked the scheme is http(s)
            url,
            data=form,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/xml, text/xml, */*",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return HttpAnswer(
                    response.status, response.read(MAX_ANSWER_BYTES), dict(response.headers)
                )
        except urllib.error.HTTPError as error:
            with error:
                return HttpAnswer(error.code, _read(error), dict(error.headers or {}))
        except urllib.error.URLError as error:
            raise _no_answer(error.reason) from None
        except (OSError, http.client.HTTPException) as error:
            raise _no_answer(error) from None


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(MAX_ANSWER_BYTES)
    except (OSError, http.client.HTTPException):
        return b""


def _no_answer(reason: object) -> NoAnswer:
    if isinstance(reason, TimeoutError):
        return NoAnswer(Failure.TIMEOUT, "timed out")
    if isinstance(reason, ssl.SSLError | ssl.CertificateError):
        return NoAnswer(Failure.TLS, _describe(reason))
    return NoAnswer(Failure.CONNECTION, _describe(reason))


def _describe(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
