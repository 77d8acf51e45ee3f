"""The request body as the sender meant it (size-checked, inflated when gzip-encoded), and from
there the item to store. Pure: the postback service and the replay tool share it."""

from __future__ import annotations

import zlib
from datetime import datetime

from functions.reports import Report, read_report, values
from functions.reports.errors import RejectReason, ReportRejected
from functions.reports.items import ReportItem, fit_item, to_item

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


def read_postback(
    body: bytes | str, content_encoding: str | None, received_at: datetime, limit: int
) -> tuple[Report, ReportItem]:
    """The report in a body as received and the item to store (its body on it or in the bucket,
    as `fit_item` decides). Raises ReportRejected."""
    report, text = read_report(unwrap_body(body, content_encoding, limit))
    return report, fit_item(to_item(report, raw=text, received_at=iso_utc(received_at)))


def iso_utc(moment: datetime) -> str:
    """`2026-11-28T05:26:07.123Z`."""
    return values.iso_utc(moment)
