"""Size limit and content encodings of request bodies."""

from __future__ import annotations

import gzip

import pytest

from functions.postback.body import unwrap_body
from functions.reports import RejectReason, ReportRejected

LIMIT = 1024


def test_plain_body_within_the_limit_passes_unchanged() -> None:
    assert unwrap_body(b"<a/>", None, LIMIT) == b"<a/>"
    assert unwrap_body("<a/>", "identity", LIMIT) == "<a/>"


def test_body_over_the_limit_is_too_large() -> None:
    with pytest.raises(ReportRejected) as caught:
        unwrap_body(b"x" * (LIMIT + 1), None, LIMIT)

    assert caught.value.reason is RejectReason.TOO_LARGE
    assert str(LIMIT) in caught.value.detail


def test_limit_counts_bytes_not_characters() -> None:
    with pytest.raises(ReportRejected):
        unwrap_body("é" * (LIMIT // 2 + 1), None, LIMIT)


def test_gzip_body_is_inflated() -> None:
    assert unwrap_body(gzip.compress(b"<a/>"), "gzip", LIMIT) == b"<a/>"


def test_gzip_bomb_is_stopped_at_the_limit() -> None:
    bomb = gzip.compress(b"\0" * (50 * LIMIT))
    assert len(bomb) < LIMIT

    with pytest.raises(ReportRejected) as caught:
        unwrap_body(bomb, "gzip", LIMIT)

    assert caught.value.reason is RejectReason.TOO_LARGE


@pytest.mark.parametrize("body", [b"not gzip at all", gzip.compress(b"<a>" * 100)[:-12]])
def test_corrupt_or_truncated_gzip_is_not_well_formed(body: bytes) -> None:
    with pytest.raises(ReportRejected) as caught:
        unwrap_body(body, "gzip", LIMIT)

    assert caught.value.reason is RejectReason.NOT_WELL_FORMED


def test_unsupported_content_encoding_is_refused_with_its_name() -> None:
    with pytest.raises(ReportRejected) as caught:
        unwrap_body(b"<a/>", "br", LIMIT)

    assert caught.value.reason is RejectReason.NOT_WELL_FORMED
    assert "'br'" in caught.value.detail
