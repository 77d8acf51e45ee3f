"""GET a recording safely: the URL policy before every request, DNS resolved here and every
address checked, the connection made to the checked address (a second lookup could answer
differently), timeouts, a size limit, a bounded number of redirects, the API key for CallFire only.

Standard library only (http.client, no environment proxies), so that nothing else decides where a
request goes.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urljoin

from functions.credentials import Credentials
from functions.recordings.policy import (
    FetchTarget,
    IPAddress,
    Refused,
    UrlPolicy,
    address_refusal,
    redact_url,
    with_api_key,
)
from functions.recordings.ports import CannotCopy, RetryLater

REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "callfire-receiver-recordings/1"
READ_BYTES = 256 * 1024
Resolver = Callable[[str, int], list[IPAddress]]
Clock = Callable[[], float]
ApiKey = Callable[[float], str | None]
"""CallFire's API key, or None when none is configured, read by the deadline it is given.
Raises RetryLater when unreadable."""
BasicAuth = Callable[[float], Credentials | None]
"""CallFire's v2 API credentials, or None when none are configured, read by the deadline it is
given. Raises RetryLater when unreadable."""


@dataclass(frozen=True, slots=True)
class FetchLimits:
    connect_timeout: float
    read_timeout: float
    max_bytes: int
    max_redirects: int = 5


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, without duplicates."""
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    ):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


class SafeFetcher:
    def __init__(
        self,
        policy: UrlPolicy,
        limits: FetchLimits,
        *,
        api_key: ApiKey = lambda _deadline: None,
        basic_auth: BasicAuth = lambda _deadline: None,
        resolver: Resolver = resolve,
        clock: Clock = time.monotonic,
    ) -> None:
        """`clock` is what deadlines are read on (time.monotonic() values). The API key (query)
        and the v2 credentials (an `Authorization` header) go to CallFire hosts only, on every
        request to one, redirects included, and to no other host."""
        self._policy = policy
        self._limits = limits
        self._api_key = api_key
        self._basic_auth = basic_auth
        self._resolver = resolver
        self._clock = clock
        self._tls: ssl.SSLContext | None = None

    def open(self, url: str, *, deadline: float) -> HttpDownload:
        sent_key: str | None = None
        current = url
        for _ in range(self._limits.max_redirects + 1):
            target = self._check(current)
            key = self._key_for(target, deadline)
            sent_key = sent_key or key
            request_target = with_api_key(target.request_target, key)
            if sent_key and not target.callfire and sent_key in request_target:
                raise CannotCopy(
                    f"a redirect would carry the API key to {target.host}, not a CallFire host"
                )
            connection, response = self._request(target, request_target, deadline)
            if response.status not in REDIRECTS:
                return self._answer(target, connection, response, deadline, sent_key)
            location = (response.getheader("Location") or "").strip()
            connection.close()
            if not location:
                raise CannotCopy(f"HTTP {response.status} without a Location from {target.host}")
            current = urljoin(target.url, location)
        raise CannotCopy(f"more than {self._limits.max_redirects} redirects")

    def _check(self, url: str) -> FetchTarget:
        try:
            return self._policy.check(url)
        except Refused as refusal:
            raise CannotCopy(refusal.reason) from None

    def _key_for(self, target: FetchTarget, deadline: float) -> str | None:
        return self._api_key(deadline) if target.callfire else None

    def _addresses(self, target: FetchTarget) -> list[IPAddress]:
        try:
            addresses = self._resolver(target.host, target.port)
        except (OSError, UnicodeError, ValueError) as error:
            raise RetryLater(f"{target.host} cannot be resolved: {type(error).__name__}") from None
        if not addresses:
            raise RetryLater(f"{target.host} resolves to no address")
        for address in addresses:
            refusal = address_refusal(address, loopback_only=target.loopback_only)
            if refusal is not None:
                raise CannotCopy(f"{target.host} is refused: {refusal}")
        return addresses

    def _request(
        self, target: FetchTarget, request_target: str, deadline: float
    ) -> tuple[_PinnedConnection, http.client.HTTPResponse]:
        failure = "no address"
        headers = self._headers(target, deadline)
        for address in self._addresses(target):
            if self._clock() >= deadline:
                failure = "out of time"
                break
            connection = _PinnedConnection(
                target,
                address,
                connect_timeout=self._limits.connect_timeout,
                read_timeout=min(self._limits.read_timeout, _left(deadline, self._clock)),
                tls=self._tls_context() if target.scheme == "https" else None,
            )
            try:
                connection.request("GET", request_target, headers=headers)
                return connection, connection.getresponse()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                failure = _describe(error)
        raise RetryLater(f"{target.host} did not answer: {failure}")

    def _answer(
        self,
        target: FetchTarget,
        connection: _PinnedConnection,
        response: http.client.HTTPResponse,
        deadline: float,
        sent_key: str | None,
    ) -> HttpDownload:
        status = response.status
        where = _scrub(redact_url(target.url), sent_key)
        failure: Exception | None = None
        if status >= 500 or status in (408, 425, 429):
            failure = RetryLater(
                f"HTTP {status} from {where}",
                retry_after=_retry_after(response.getheader("Retry-After")),
            )
        elif status != 200:
            failure = CannotCopy(f"HTTP {status} from {where}")
        elif (response.getheader("Content-Encoding") or "identity").strip().lower() != "identity":
            failure = CannotCopy(f"{where} answered with a compressed body, not a recording")
        else:
            length = _content_length(response.getheader("Content-Length"))
            if length is not None and length > self._limits.max_bytes:
                failure = CannotCopy(
                    f"the recording is {length} bytes; at most {self._limits.max_bytes} are copied"
                )
        if failure is not None:
            connection.close()
            raise failure
        return HttpDownload(
            connection,
            response,
            url=target.url,
            max_bytes=self._limits.max_bytes,
            read_timeout=self._limits.read_timeout,
            deadline=deadline,
            clock=self._clock,
        )

    def _headers(self, target: FetchTarget, deadline: float) -> dict[str, str]:
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "audio/*, application/octet-stream;q=0.9, */*;q=0.1",
            "Accept-Encoding": "identity",
        }
        credentials = self._basic_auth(deadline) if target.callfire else None
        if credentials is not None:
            headers["Authorization"] = credentials.authorization
        return headers

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls


class HttpDownload:
    """A 200 answer whose body is read in pieces, never past the size limit or the deadline."""

    def __init__(
        self,
        connection: _PinnedConnection,
        response: http.client.HTTPResponse,
        *,
        url: str,
        max_bytes: int,
        read_timeout: float,
        deadline: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._connection = connection
        self._response = response
        self.url = url
        self.content_type = response.getheader("Content-Type")
        self._max_bytes = max_bytes
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._clock = clock
        self.received = 0

    def readinto(self, buffer: memoryview) -> int:
        """At most one network read per call (a trickling chunked body cannot hold a call past
        the deadline); a body shorter than its Content-Length is an error, not an end."""
        if self._clock() >= self._deadline:
            raise RetryLater("the download did not finish in time")
        self._connection.set_read_timeout(
            min(self._read_timeout, _left(self._deadline, self._clock))
        )
        room = min(len(buffer), READ_BYTES, self._max_bytes - self.received + 1)
        try:
            data = self._response.read1(room)
        except (OSError, http.client.HTTPException) as error:
            if self._clock() >= self._deadline:
                raise RetryLater("the download did not finish in time") from None
            raise RetryLater(f"the download broke off: {_describe(error)}") from None
        if not data:
            if self._response.length:
                raise RetryLater("the download ended before its Content-Length")
            return 0
        count = len(data)
        buffer[:count] = data
        self.received += count
        if self.received > self._max_bytes:
            raise CannotCopy(f"the recording is larger than {self._max_bytes} bytes")
        return count

    def close(self) -> None:
        self._response.close()
        self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one checked address; the Host header, TLS server name and
    certificate check use the URL's host name."""

    def __init__(
        self,
        target: FetchTarget,
        address: IPAddress,
        *,
        connect_timeout: float,
        read_timeout: float,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(target.host, target.port, timeout=connect_timeout)
        self._address = str(address)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._tls = tls

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), timeout=self._connect_timeout)
        try:
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(self._read_timeout)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def set_read_timeout(self, seconds: float) -> None:
        if self.sock is not None:
            self.sock.settimeout(seconds)


def _left(deadline: float, clock: Clock) -> float:
    return max(deadline - clock(), 0.05)


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    return type(error).__name__


def _content_length(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; its HTTP-date form is ignored (the back-off applies)."""
    return float(value) if value and value.strip().isdigit() else None


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text
