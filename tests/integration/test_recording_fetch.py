"""The safe fetcher over real HTTP against the stand-in CallFire: DNS answers checked and pinned,
redirects re-checked, the API key for CallFire only, timeouts, the size limit, status codes."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from functions.adapters.http_fetch import FetchLimits, HttpDownload, SafeFetcher, resolve
from functions.recordings.policy import IPAddress, UrlPolicy
from functions.recordings.ports import CannotCopy, RetryLater
from local.callfire import Canned, StandInCallFire, mp3_bytes, wav_bytes
from tests.fakes import ManualClock

KEY = "the-api-key-0123456789"
LIMITS = FetchLimits(connect_timeout=2, read_timeout=0.5, max_bytes=1024 * 1024)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[StandInCallFire, StandInCallFire]]:
    with StandInCallFire() as callfire, StandInCallFire() as elsewhere:
        yield callfire, elsewhere


@pytest.fixture
def callfire(servers: tuple[StandInCallFire, StandInCallFire]) -> StandInCallFire:
    servers[0].reset()
    return servers[0]


@pytest.fixture
def elsewhere(servers: tuple[StandInCallFire, StandInCallFire]) -> StandInCallFire:
    """A second server on another loopback port."""
    servers[1].reset()
    return servers[1]


def port_of(server: StandInCallFire) -> int:
    return int(urlsplit(server.url).port or 0)


def fetcher(
    server: StandInCallFire,
    *,
    hosts: tuple[str, ...] = ("callfire.com", "127.0.0.1", "localhost"),
    origins: set[tuple[str, int]] | None = None,
    resolver: object = resolve,
    limits: FetchLimits = LIMITS,
) -> SafeFetcher:
    policy = UrlPolicy(
        allowed_hosts=hosts,
        callfire_hosts=("callfire.com", "127.0.0.1"),
        loopback_origins=origins if origins is not None else {("127.0.0.1", port_of(server))},
    )
    return SafeFetcher(policy, limits, api_key=lambda _deadline: KEY, resolver=resolver)  # type: ignore[arg-type]


def read_all(download: HttpDownload) -> bytes:
    data = bytearray()
    buffer = bytearray(4096)
    with download:
        while count := download.readinto(memoryview(buffer)):
            data += buffer[:count]
    return bytes(data)


def later(seconds: float = 30) -> float:
    return time.monotonic() + seconds


class Resolver:
    """Answers `host` with `addresses` and counts the questions."""

    def __init__(self, addresses: dict[str, list[str]]) -> None:
        self._addresses = addresses
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address(address) for address in self._addresses[host]]


def test_a_wav_is_served_with_its_type_and_the_api_key_in_the_query(
    callfire: StandInCallFire,
) -> None:
    download = fetcher(callfire).open(f"{callfire.url}/cloud/1/files/recording/5", deadline=later())

    assert download.content_type == "audio/x-wav"
    assert read_all(download) == wav_bytes()
    (seen,) = callfire.requests
    assert seen.query == {"apikey": [KEY]}


def test_a_name_is_resolved_once_and_the_connection_goes_to_the_checked_address(
    callfire: StandInCallFire,
) -> None:
    port = port_of(callfire)
    resolver = Resolver({"rec.callfire.com": ["127.0.0.1"]})
    safe = fetcher(callfire, origins={("rec.callfire.com", port)}, resolver=resolver)

    body = read_all(
        safe.open(f"http://rec.callfire.com:{port}/cloud/1/files/recording/5/mp3", deadline=later())
    )

    assert body == mp3_bytes()
    assert resolver.asked == ["rec.callfire.com"]
    assert callfire.requests[0].headers["Host"] == f"rec.callfire.com:{port}"


@pytest.mark.parametrize(
    "addresses",
    [["93.184.216.34", "127.0.0.1"], ["10.0.0.7"], ["169.254.169.254"], ["::ffff:10.0.0.7"]],
    ids=["rebinding-mix", "private", "metadata", "mapped-private"],
)
def test_a_name_resolving_to_any_non_public_address_is_refused_unrequested(
    callfire: StandInCallFire, addresses: list[str]
) -> None:
    resolver = Resolver({"rec.callfire.com": addresses})

    with pytest.raises(CannotCopy, match="is not a public address"):
        fetcher(callfire, resolver=resolver).open("https://rec.callfire.com/r/1", deadline=later())
    assert callfire.requests == []


def test_a_loopback_origin_may_not_resolve_anywhere_but_loopback(
    callfire: StandInCallFire,
) -> None:
    port = port_of(callfire)
    resolver = Resolver({"rec.callfire.com": ["10.0.0.7"]})
    safe = fetcher(callfire, origins={("rec.callfire.com", port)}, resolver=resolver)

    with pytest.raises(CannotCopy, match="not a loopback address"):
        safe.open(f"http://rec.callfire.com:{port}/r/1", deadline=later())


def test_redirects_are_followed_within_allowed_places(callfire: StandInCallFire) -> None:
    callfire.answer(
        "GET", "/moved", Canned(status=302, headers={"Location": "/cloud/1/files/recording/9/mp3"})
    )

    download = fetcher(callfire).open(f"{callfire.url}/moved", deadline=later())

    assert (download.content_type, read_all(download)) == ("audio/mpeg", mp3_bytes())
    assert [(r.path, r.query) for r in callfire.requests] == [
        ("/moved", {"apikey": [KEY]}),
        ("/cloud/1/files/recording/9/mp3", {"apikey": [KEY]}),
    ]


def test_the_api_key_does_not_follow_a_redirect_to_another_host(
    callfire: StandInCallFire, elsewhere: StandInCallFire
) -> None:
    origins = {("127.0.0.1", port_of(callfire)), ("localhost", port_of(elsewhere))}
    target = f"http://localhost:{port_of(elsewhere)}/cloud/1/files/recording/3"
    callfire.answer("GET", "/moved", Canned(status=307, headers={"Location": target}))

    body = read_all(
        fetcher(callfire, origins=origins).open(f"{callfire.url}/moved", deadline=later())
    )

    assert body == wav_bytes()
    assert [r.query for r in elsewhere.requests] == [{}]


def test_a_redirect_echoing_the_api_key_to_another_host_is_refused(
    callfire: StandInCallFire, elsewhere: StandInCallFire
) -> None:
    origins = {("127.0.0.1", port_of(callfire)), ("localhost", port_of(elsewhere))}
    target = f"http://localhost:{port_of(elsewhere)}/r?key={KEY}"
    callfire.answer("GET", "/moved", Canned(status=302, headers={"Location": target}))

    with pytest.raises(CannotCopy, match="would carry the API key") as refused:
        fetcher(callfire, origins=origins).open(f"{callfire.url}/moved", deadline=later())

    assert elsewhere.requests == []
    assert KEY not in refused.value.reason


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://127.0.0.1:{other}/r", "only https URLs are fetched"),
        ("https://127.0.0.1:{other}/r", "127.0.0.1 is not a public address"),
        ("https://localhost:{other}/r", "is not a public address"),
        ("http://169.254.169.254/latest/meta-data/", "only https URLs are fetched"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is not on recordingHosts"),
        ("https://10.0.0.1/r", "10.0.0.1 is not on recordingHosts"),
        ("file:///etc/passwd", "not an https URL"),
    ],
)
def test_redirects_to_forbidden_places_are_refused_unrequested(
    callfire: StandInCallFire, elsewhere: StandInCallFire, location: str, reason: str
) -> None:
    callfire.answer(
        "GET",
        "/moved",
        Canned(status=301, headers={"Location": location.format(other=port_of(elsewhere))}),
    )

    with pytest.raises(CannotCopy, match=reason):
        fetcher(callfire).open(f"{callfire.url}/moved", deadline=later())

    assert elsewhere.requests == []
    assert [r.path for r in callfire.requests] == ["/moved"]


def test_redirects_are_bounded(callfire: StandInCallFire) -> None:
    callfire.answer("GET", "/loop", Canned(status=302, headers={"Location": "/loop"}))

    with pytest.raises(CannotCopy, match="more than 5 redirects"):
        fetcher(callfire).open(f"{callfire.url}/loop", deadline=later())
    assert len(callfire.requests) == 6


def test_a_redirect_without_location_is_permanent(callfire: StandInCallFire) -> None:
    callfire.answer("GET", "/moved", Canned(status=302))

    with pytest.raises(CannotCopy, match="without a Location"):
        fetcher(callfire).open(f"{callfire.url}/moved", deadline=later())


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_are_permanent(callfire: StandInCallFire, status: int) -> None:
    callfire.answer("GET", "/r", Canned(status=status))

    with pytest.raises(CannotCopy, match=f"HTTP {status} from http://127.0.0.1:"):
        fetcher(callfire).open(f"{callfire.url}/r", deadline=later())


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_server_errors_and_throttling_are_transient(callfire: StandInCallFire, status: int) -> None:
    callfire.answer("GET", "/r", Canned(status=status, headers={"Retry-After": "120"}))

    with pytest.raises(RetryLater, match=f"HTTP {status}") as retry:
        fetcher(callfire).open(f"{callfire.url}/r?apikey={KEY}", deadline=later())
    assert retry.value.retry_after == 120
    assert KEY not in retry.value.reason


def test_a_slow_answer_times_out_as_transient(callfire: StandInCallFire) -> None:
    """The answer would come after 3 s; the read timeout (1 s) ends the wait first."""
    callfire.answer("GET", "/slow", Canned(body=wav_bytes(), delay=3))

    with pytest.raises(RetryLater, match="timed out"):
        fetcher(callfire).open(f"{callfire.url}/slow", deadline=later())


def test_a_stalled_body_times_out_as_transient(callfire: StandInCallFire) -> None:
    def stalls() -> Iterator[bytes]:
        yield b"RIFF" * 100
        time.sleep(3)
        yield b"late"

    callfire.add_recording("/stalls", stalls, "audio/x-wav")
    download = fetcher(callfire).open(f"{callfire.url}/stalls", deadline=later())

    with pytest.raises(RetryLater, match="broke off: timed out"):
        read_all(download)


def test_a_trickle_past_the_deadline_is_transient(callfire: StandInCallFire) -> None:
    """Each chunk comes in time for the read timeout, but the transfer as a whole passes its
    deadline: the clock the fetcher reads moves 0.1 s each time it is read, so the deadline
    (0.5 s away) passes after a few reads, long before the 50 chunks are in."""
    callfire.add_recording("/trickles", lambda: iter([b"\x80" * 10] * 50), "audio/x-wav")
    clock = ManualClock()

    def reading() -> float:
        clock.advance(0.1)
        return clock.now

    policy = UrlPolicy(
        allowed_hosts=("127.0.0.1",),
        callfire_hosts=(),
        loopback_origins={("127.0.0.1", port_of(callfire))},
    )
    download = SafeFetcher(policy, LIMITS, clock=reading).open(
        f"{callfire.url}/trickles", deadline=clock.now + 0.5
    )

    with pytest.raises(RetryLater, match="did not finish in time"):
        read_all(download)
    assert download.received < 500


def test_a_declared_length_over_the_limit_is_refused_before_the_body(
    callfire: StandInCallFire,
) -> None:
    callfire.add_recording("/big", b"\x80" * (LIMITS.max_bytes + 1), "audio/x-wav")

    with pytest.raises(CannotCopy, match=f"at most {LIMITS.max_bytes} are copied"):
        fetcher(callfire).open(f"{callfire.url}/big", deadline=later())


def test_a_streamed_body_over_the_limit_is_refused_while_reading(
    callfire: StandInCallFire,
) -> None:
    callfire.add_recording("/big", lambda: iter([b"\x80" * 65536] * 17), "audio/x-wav")
    download = fetcher(callfire).open(f"{callfire.url}/big", deadline=later())

    with pytest.raises(CannotCopy, match="larger than 1048576 bytes"):
        read_all(download)
    assert download.received <= LIMITS.max_bytes + 1


def test_a_compressed_answer_is_refused(callfire: StandInCallFire) -> None:
    callfire.answer("GET", "/gz", Canned(body=b"\x1f\x8b", headers={"Content-Encoding": "gzip"}))

    with pytest.raises(CannotCopy, match="compressed"):
        fetcher(callfire).open(f"{callfire.url}/gz", deadline=later())


def test_a_closed_port_is_transient(callfire: StandInCallFire) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    safe = fetcher(callfire, origins={("127.0.0.1", closed)})

    with pytest.raises(RetryLater, match="did not answer"):
        safe.open(f"http://127.0.0.1:{closed}/r", deadline=later())


def test_an_unresolvable_name_is_transient(callfire: StandInCallFire) -> None:
    def fails(host: str, port: int) -> list[IPAddress]:
        raise socket.gaierror("no such name")

    with pytest.raises(RetryLater, match="cannot be resolved"):
        fetcher(callfire, resolver=fails).open("https://nx.callfire.com/r", deadline=later())


def test_a_body_shorter_than_its_content_length_is_transient(callfire: StandInCallFire) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def answer_short() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: audio/x-wav\r\n"
                    b"Content-Length: 1000\r\n\r\nRIFF-and-then-nothing"
                )

        server = threading.Thread(target=answer_short, daemon=True)
        server.start()
        download = fetcher(callfire, origins={("127.0.0.1", port)}).open(
            f"http://127.0.0.1:{port}/r", deadline=later()
        )

        with pytest.raises(RetryLater, match="ended before its Content-Length"):
            read_all(download)
        server.join(5)
