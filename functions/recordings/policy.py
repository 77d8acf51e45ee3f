"""Which recording URLs may be fetched, from which addresses, and with which credentials.

Pure rules, no I/O: the fetcher asks `UrlPolicy.check` before every request (the first one and each
redirect), resolves the host itself, asks `address_refusal` about every address, and connects only
to an address that passed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit

from functions.names import CALLFIRE_DOMAIN

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

API_KEY_PARAMETER = "apikey"
MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"https": 443, "http": 80}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class Refused(Exception):
    """A URL or address that must not be requested. `reason` is safe to log and to store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FetchTarget:
    """A checked URL, split the way the fetcher needs it."""

    url: str
    scheme: str
    host: str
    port: int
    request_target: str
    """Path and query, as sent on the request line."""
    loopback_only: bool
    """An origin named in RECORDING_LOOPBACK_ORIGINS, or a stand-in named in
    RECORDING_STAND_INS: it may be reached on loopback only."""
    callfire: bool
    """A CallFire host: the API key is added to the query."""


def normalize_host(host: str) -> str:
    return host.strip().lower().removeprefix("*.").strip(".")


def host_on(host: str, entries: Iterable[str]) -> bool:
    """`host` equals an entry or is a subdomain of one (`www.callfire.com` is on `callfire.com`;
    `evilcallfire.com` and `callfire.com.example` are not)."""
    return any(host == entry or host.endswith("." + entry) for entry in entries if entry)


def parse_origins(text: str) -> frozenset[tuple[str, int]]:
    """`host:port,host:port` as exact pairs; an entry without a numeric port is an error, so a
    typo cannot widen the exemption to a whole host."""
    origins = set()
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        host, separator, port = entry.rpartition(":")
        if not separator or not port.isdigit() or not host:
            raise ValueError(f"expected host:port, got {entry!r}")
        origins.add((normalize_host(host.strip("[]")), int(port)))
    return frozenset(origins)


def parse_stand_ins(text: str) -> dict[str, tuple[str, int]]:
    """`host=address:port,...` as a map from host to origin; a malformed entry is an error."""
    stand_ins = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        host, separator, origin = entry.partition("=")
        if not separator or not normalize_host(host):
            raise ValueError(f"expected host=address:port, got {entry!r}")
        ((address, port),) = parse_origins(origin)
        stand_ins[normalize_host(host)] = (address, port)
    return stand_ins


class UrlPolicy:
    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str],
        callfire_hosts: Iterable[str] = (CALLFIRE_DOMAIN,),
        loopback_origins: Iterable[tuple[str, int]] = (),
        stand_ins: Mapping[str, tuple[str, int]] | None = None,
    ) -> None:
        """`stand_ins` maps a host (and its subdomains) to the loopback origin that serves its
        URLs instead: the local system's stand-in CallFire. The URL itself is checked first."""
        self.allowed_hosts = tuple(h for h in map(normalize_host, allowed_hosts) if h)
        self.callfire_hosts = tuple(h for h in map(normalize_host, callfire_hosts) if h)
        self.loopback_origins = frozenset(loopback_origins)
        self.stand_ins = dict(stand_ins or {})

    def check(self, url: str) -> FetchTarget:
        """The target of `url`, or Refused with the reason: not https, not an allowed host,
        credentials in the URL, or not a plain URL at all."""
        if len(url) > MAX_URL_LENGTH:
            raise Refused(f"the URL is longer than {MAX_URL_LENGTH} characters")
        if not url.isascii() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
            raise Refused("the URL holds spaces, control or non-ASCII characters")
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            host = normalize_host(parts.hostname or "")
            port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
        except ValueError:
            raise Refused(f"the URL's port is not a number: {redact_url(url)}") from None
        if scheme not in _DEFAULT_PORTS or not host:
            raise Refused(f"not an https URL: {redact_url(url)}")
        if parts.username is not None or parts.password is not None:
            raise Refused("the URL carries a user name or password")
        loopback_only = (host, port) in self.loopback_origins
        if scheme != "https" and not loopback_only:
            raise Refused(f"only https URLs are fetched: {redact_url(url)}")
        if not host_on(host, self.allowed_hosts):
            raise Refused(f"host {host} is not on recordingHosts")
        path = parts.path or "/"
        request_target = f"{path}?{parts.query}" if parts.query else path
        callfire = host_on(host, self.callfire_hosts)
        stand_in = self._stand_in_for(host)
        if stand_in is not None:
            scheme, (host, port), loopback_only = "http", stand_in, True
        return FetchTarget(
            url=url,
            scheme=scheme,
            host=host,
            port=port,
            request_target=request_target,
            loopback_only=loopback_only,
            callfire=callfire,
        )

    def _stand_in_for(self, host: str) -> tuple[str, int] | None:
        """The origin standing in for `host`: the most specific entry it is on, if any."""
        entries = sorted((entry for entry in self.stand_ins if host_on(host, [entry])), key=len)
        return self.stand_ins[entries[-1]] if entries else None


def address_refusal(address: IPAddress, *, loopback_only: bool = False) -> str | None:
    """Why `address` must not be connected to, or None when it may be."""
    if loopback_only:
        return None if address.is_loopback else f"{address} is not a loopback address"
    for candidate in _with_embedded(address):
        if (
            candidate.is_loopback
            or candidate.is_private
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
            or (isinstance(candidate, ipaddress.IPv6Address) and candidate.is_site_local)
            or not candidate.is_global
        ):
            return f"{address} is not a public address"
    return None


def _with_embedded(address: IPAddress) -> list[IPAddress]:
    """The address and every IPv4 address it carries (mapped, 6to4, Teredo, NAT64), so that an
    IPv6 spelling cannot smuggle a private IPv4 address past the check."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.extend(address.teredo)
        if address in _NAT64:
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def with_api_key(request_target: str, api_key: str | None) -> str:
    """`request_target` with `apikey` set to `api_key` (replacing any present), or with every
    `apikey` parameter removed when there is no key to send. Other parameters keep their exact
    spelling, so a signed URL stays valid."""
    path, _, query = request_target.partition("?")
    parameters = [part for part in query.split("&") if part] if query else []
    kept = [
        part
        for part in parameters
        if unquote_plus(part.partition("=")[0]).lower() != API_KEY_PARAMETER
    ]
    if api_key:
        kept.append(f"{API_KEY_PARAMETER}={quote(api_key, safe='')}")
    elif len(kept) == len(parameters):
        return request_target
    return f"{path}?{'&'.join(kept)}" if kept else path


def redact_url(url: str) -> str:
    """`url` fit for a log line or a stored reason: no user info, and every query value hidden
    (the API key, and the signatures of pre-signed URLs, travel in the query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        if parts.port is not None:
            netloc += f":{parts.port}"
    except ValueError:
        netloc += ":?"
    query = "&".join(f"{name}=***" for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
