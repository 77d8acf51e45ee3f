"""The request body as the sender meant it: size-checked and, when gzip-encoded, decompressed."""

from __future__ import annotations

import zlib

from functions.reports.errors import RejectReason, ReportRejected

_GZIP = {"gzip", "x-gzip"}
_IDENTITY = {"", "identity"}


def as_bytes(body: bytes | str) -> bytes:
    return body if isinstance(body, bytes) else body.encode("utf-8")


def unwrap_body(body: bytes | str, content_encoding: str | None, limit: int) -> bytes | str:
    size = len(as_bytes(body))
    if size > limit:
        raise ReportRejected(
            RejectReason.TOO_LARGE, f"the body is {size} bytes; the limit is {limit} bytes"
        )
    encoding = (content_encoding or "").strip().lower()
    if encoding in _IDENTITY:
        return body
    if encoding in _GZIP:
        return _gunzip(as_bytes(body), limit)
    shown = "".join(ch for ch in encoding[:32] if ch.isalnum() or ch in "-_.")
    raise ReportRejected(
        RejectReason.NOT_WELL_FORMED,
        f"content encoding {shown!r} is not supported; send the XML as is or gzip-encoded",
    )


def _gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        text = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise ReportRejected(RejectReason.NOT_WELL_FORMED, "the gzip body is corrupt") from None
    if len(text) > limit:
        raise ReportRejected(
            RejectReason.TOO_LARGE, f"the body inflates to more than the limit of {limit} bytes"
        )
    if not inflater.eof:
        raise ReportRejected(RejectReason.NOT_WELL_FORMED, "the gzip body is truncated")
    return text
