"""The tools' progress bar: off a terminal, a line per tenth of the work."""

from __future__ import annotations

import io

from tools.progress import Progress


def test_progress_reports_every_tenth_off_a_terminal() -> None:
    stream = io.StringIO()
    bar = Progress("replay", 20, stream=stream)
    for _ in range(20):
        bar.step("stored")

    assert bar.finish() == {"stored": 20}
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[-1].startswith("replay [##############################] 20/20 stored 20")


def test_progress_counts_a_page_at_a_time_and_stops_full_past_an_estimate() -> None:
    stream = io.StringIO()
    bar = Progress("scan", 10, stream=stream)
    bar.step("scanned", 8)
    bar.step("scanned", 8)

    assert bar.finish() == {"scanned": 16}
    assert stream.getvalue().splitlines()[-1] == f"scan [{'#' * 30}] 16/10 scanned 16"
