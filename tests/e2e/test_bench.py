"""The benchmarks still run (a smoke run: no timing is asserted anywhere in `make test`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_row_runs_and_is_reported() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((ROOT / ".bench" / "results.json").read_text())["rows"]
    names = [row["name"] for row in rows]
    for prefix in (
        "parse ",
        "cold start",
        "warm request",
        "end to end",
        "size:",
        "cost per million",
        "monthly bill: idle",
        "monthly bill: all-in at 100 thousand",
        "monthly bill: per million at 100 million",
    ):
        assert any(name.startswith(prefix) for name in names), prefix
    v2 = [row for row in rows if row["name"].startswith("parse v2 ")]
    assert len(v2) == 3
    assert all(row["baseline"].endswith("json.loads") for row in v2), v2
    end_to_end = [row for row in rows if row["name"].startswith("end to end")]
    assert len(end_to_end) == 2
    assert all(row["result"].startswith("met: ") for row in end_to_end), end_to_end
    (header,) = [line for line in result.stdout.splitlines() if line.startswith("row ")]
    assert header.split()[:3] == ["row", "measured", "baseline"]
