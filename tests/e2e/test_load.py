"""The benchmark's end-to-end run with a misbehaving sender, over both routes (a quarter of the
reports are signed v2 webhook deliveries): 10% of requests retried at once, 1% cut off mid-body
(half of those never sent whole), 5% sent again later. Exactly the unique complete reports are
stored: none lost, none twice, none of the incomplete ones."""

from __future__ import annotations

import pytest

from bench.measure import end_to_end

pytestmark = pytest.mark.e2e


def test_retries_and_cut_offs_store_exactly_the_unique_complete_reports() -> None:
    result = end_to_end(
        count=2000,
        senders=16,
        duplicate=0.05,
        retry=0.10,
        cut_off=0.01,
        v2_share=0.25,
        count_published=False,  # publishing is the benchmark's and test_local_system's to check
    )

    assert result.lost == 0, result.errors
    assert result.extra_items == 0
    assert result.stored == result.unique
    assert result.unique < 2000, "some reports were only ever cut off, and must not be stored"
    assert result.statuses["cut off"] > 0
    assert set(result.statuses) <= {"200", "cut off"}, (result.statuses, result.errors)
