"""`make bench`: every row measured beside its baseline in the same run, printed as one table.

python -m bench                 all rows
python -m bench parse           one row group: parse, cold, warm, e2e, size, cost
python -m bench --write         also rewrite BENCHMARKS.md with the results and the commit
python -m bench --quick         fewer repetitions and 200 reports end to end (a smoke run)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the functions' own lines stay quiet

from bench import cost, measure
from tools.table import render

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".bench" / "results.json"
BENCHMARKS = ROOT / "BENCHMARKS.md"
GROUPS = ("parse", "cold", "warm", "e2e", "size", "cost")


@dataclass
class Row:
    name: str
    measured: str
    baseline: str
    ratio: str
    goal: str
    result: str
    command: str


def _verdict(value: float, goal: float, unit: str = "x") -> str:
    if value <= goal:
        return "met"
    return f"missed by {value - goal:.2f}{unit}"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms"


def _mb(size: float) -> str:
    return f"{size / 1e6:.2f} MB"


V2_PARSE_GOAL = 10.0
"""A v2 delivery is read strictly (duplicate names refused, each event's exact text kept, nesting
bounded) and each event mapped to its item in Python: at most ten times json.loads (C only) alone
on the same bytes."""


def parse_rows(quick: bool, data: dict[str, Any]) -> list[Row]:
    number, repeat = (500, 3) if quick else (2000, 15)
    results = measure.parse(number=number, repeat=repeat)
    v2 = measure.parse_v2(number=number, repeat=repeat)
    data["parse"] = {name: asdict(pair) for name, pair in {**results, **v2}.items()}
    legacy = [
        Row(
            f"parse {name}",
            _us(pair.value),
            f"{_us(pair.baseline)} fromstring",
            f"{pair.ratio:.2f}x",
            "≤ 1.50x",
            _verdict(pair.ratio, 1.5),
            "python -m bench parse",
        )
        for name, pair in results.items()
    ]
    return legacy + [
        Row(
            f"parse {name}",
            _us(pair.value),
            f"{_us(pair.baseline)} json.loads",
            f"{pair.ratio:.2f}x",
            f"≤ {V2_PARSE_GOAL:.2f}x",
            _verdict(pair.ratio, V2_PARSE_GOAL),
            "python -m bench parse",
        )
        for name, pair in v2.items()
    ]


def cold_rows(quick: bool, data: dict[str, Any]) -> list[Row]:
    results = measure.cold_start(runs=3 if quick else 9)
    data["cold"] = {name: asdict(pair) for name, pair in results.items()}
    rows = []
    for name, pair in results.items():
        goal = name == "import"
        rows.append(
            Row(
                f"cold start: handler {name}",
                _ms(pair.value),
                f"{_ms(pair.baseline)} boto3 + 4 clients",
                f"{pair.ratio:.2f}x",
                "≤ 1.25x" if goal else "(first request)",
                _verdict(pair.ratio, 1.25) if goal else "info",
                "python -m bench cold",
            )
        )
    bundled = measure.asset_cold_start(runs=3 if quick else 9)
    data["cold"]["from the asset"] = asdict(bundled)
    rows.append(
        Row(
            "cold start: handler import + clients, boto3 from the asset",
            _ms(bundled.value),
            f"{_ms(bundled.baseline)} boto3 installed beside",
            f"{bundled.ratio:.2f}x",
            "(bundled SDK)",
            "info",
            "python -m bench cold",
        )
    )
    return rows


def warm_rows(quick: bool, data: dict[str, Any]) -> list[Row]:
    results = measure.warm_request(number=100 if quick else 500, repeat=3 if quick else 11)
    data["warm"] = {name: asdict(pair) for name, pair in results.items()}
    rows = []
    for name, pair in results.items():
        added = pair.value - pair.baseline
        rows.append(
            Row(
                f"warm request {name}",
                f"{_us(pair.value)} (+{added * 1e6:.0f} µs)",
                f"{_us(pair.baseline)} fromstring",
                f"{pair.ratio:.2f}x",
                "+ ≤ 300 µs",
                "met" if added <= 300e-6 else f"missed by {(added - 300e-6) * 1e6:.0f} µs",
                "python -m bench warm",
            )
        )
    return rows


def e2e_rows(quick: bool, data: dict[str, Any]) -> list[Row]:
    rows = []
    for recordings, label in ((True, "recordings copied meanwhile"), (False, "no recordings")):
        result = measure.end_to_end(count=200 if quick else 2000, recordings=recordings)
        data[f"e2e, {label}"] = asdict(result)
        rows.append(_e2e_row(result, label))
    return rows


def _e2e_row(result: measure.EndToEnd, label: str) -> Row:
    exact = (
        result.stored == result.unique
        and result.lost == 0
        and result.extra_items == 0
        and result.distinct_events == result.stored
    )
    again = result.events - result.distinct_events
    return Row(
        f"end to end: {result.unique} reports (25% v2 webhooks), 5% twice, 16 senders, {label}",
        f"{result.reports_per_second:.0f}/s, "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms",
        f"{result.put_items_per_second:.0f}/s moto put_item",
        f"{result.reports_per_second / result.put_items_per_second:.2f}x",
        "stored = unique, 0 lost, 1 event each",
        f"{'met' if exact else 'MISSED'}: stored {result.stored}/{result.unique}, "
        f"lost {result.lost}, extra {result.extra_items}, events {result.distinct_events}"
        + (f" (+{again} redelivered)" if again else ""),
        "python -m bench e2e",
    )


def size_rows(_quick: bool, data: dict[str, Any]) -> list[Row]:
    asset = measure.asset_size()
    imported = measure.imported_bytes()
    data["size"] = {"asset": asset, "imported": imported}
    handler, baseline = sum(imported["handler"].values()), sum(imported["boto3 + clients"].values())
    return [
        Row(
            "size: code asset, zipped",
            _mb(asset["zipped"]),
            "50 MB Lambda limit",
            f"{asset['zipped'] / 50e6:.3f}x",
            "",
            "info",
            "python -m bench size",
        ),
        Row(
            "size: code asset, unzipped",
            f"{_mb(asset['unzipped'])} ({asset['functions package'] / 1e3:.0f} kB ours)",
            "250 MB Lambda limit",
            f"{asset['unzipped'] / 250e6:.3f}x",
            "",
            "info",
            "python -m bench size",
        ),
        Row(
            "size: source the handler imports",
            _mb(handler),
            f"{_mb(baseline)} boto3 + 4 clients",
            f"{handler / baseline:.2f}x",
            "",
            "info",
            "python -m bench size",
        ),
    ]


def cost_rows(_quick: bool, data: dict[str, Any]) -> list[Row]:
    from local.template import synthesize

    warm = data.get("warm") or {
        name: asdict(pair) for name, pair in measure.warm_request(number=100, repeat=3).items()
    }
    sizes = measure.item_sizes()
    measured = cost.Measured(
        handler_us={name: pair["value"] * 1e6 for name, pair in warm.items()},
        item_bytes={name: entry["item"] for name, entry in sizes.items()},
        index_entries={name: entry["index entries"] for name, entry in sizes.items()},
        index_bytes={name: entry["index bytes"] for name, entry in sizes.items()},
        log_bytes=measure.log_bytes_per_report(),
        memory_mb=256,
        quiet_log_bytes=measure.log_bytes_per_report(logging.WARNING),
    )
    stack = cost.inventory(synthesize(security_checks=False))
    lines = cost.per_million(measured)
    total = sum(lines.values())
    goals = cost.goals(measured, stack)
    data["cost"] = {
        "lines": lines,
        "total": total,
        "measured": asdict(measured),
        "stack": asdict(stack),
        "goals": goals,
        "bill": cost.report(measured, stack),
    }
    return [
        Row(
            "cost per million reports (per-report lines, list price)",
            f"${total:.2f}",
            "$3.00 goal",
            f"{total / 3:.2f}x",
            "≤ $3.00",
            "met" if total <= 3 else f"missed by ${total - 3:.2f}",
            "python -m bench cost",
        ),
        *(
            Row(
                f"monthly bill: {name}",
                f"${figure:.2f}",
                f"${goal:.2f} goal",
                f"{figure / goal:.2f}x",
                f"≤ ${goal:.2f}",
                "met" if figure <= goal else f"missed by ${figure - goal:.2f}",
                "python -m bench cost",
            )
            for name, (figure, goal) in goals.items()
        ),
    ]


RUNNERS: dict[str, Callable[[bool, dict[str, Any]], list[Row]]] = {
    "parse": parse_rows,
    "cold": cold_rows,
    "warm": warm_rows,
    "e2e": e2e_rows,
    "size": size_rows,
    "cost": cost_rows,
}


def table(rows: list[Row]) -> str:
    return render(
        ("row", "measured", "baseline (same run)", "ratio", "goal", "result", "reproduce"),
        [
            [row.name, row.measured, row.baseline, row.ratio, row.goal, row.result, row.command]
            for row in rows
        ],
        max_width=72,
    )


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown(rows: list[Row], seconds: float) -> str:
    header = (
        "| row | measured | baseline (same run) | ratio | goal | result | reproduce |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r.name} | {r.measured} | {r.baseline} | {r.ratio} | {r.goal} | {r.result} "
        f"| `{r.command}` |\n"
        for r in rows
    )
    return (
        f"Measured on commit `{_commit()}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()} / Python {platform.python_version()}, in {seconds:.0f} s "
        f"(`make bench`).\n\n{header}{body}"
    )


def _replace_between(text: str, start: str, end: str, new: str) -> str:
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    return before + start + new + end + after


def write_benchmarks(
    rows: list[Row], data: dict[str, Any], seconds: float, *, complete: bool
) -> None:
    """The results table only after a run of every group (a partial run would drop rows); the
    monthly bill whenever the cost group ran."""
    text = BENCHMARKS.read_text()
    if complete:
        text = _replace_between(
            text, "<!-- results -->\n", "<!-- /results -->", markdown(rows, seconds)
        )
    else:
        print("results table left as it was: only a full run rewrites it", file=sys.stderr)
    if "cost" in data:
        computed = (
            f"Computed on commit `{_commit()}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
            "(`python -m bench cost --write`).\n\n"
        )
        text = _replace_between(
            text, "<!-- bill -->\n", "<!-- /bill -->", computed + data["cost"]["bill"]
        )
    BENCHMARKS.write_text(text)
    print(f"\nwrote {BENCHMARKS.relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("groups", nargs="*", metavar="group", help=", ".join(GROUPS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", action="store_true", help="rewrite BENCHMARKS.md's results")
    options = parser.parse_args(argv)
    groups = options.groups or list(GROUPS)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}")
    started = time.perf_counter()
    rows: list[Row] = []
    data: dict[str, Any] = {}
    for group in GROUPS:
        if group in groups:
            print(f"... {group}", file=sys.stderr, flush=True)
            rows += RUNNERS[group](options.quick, data)
    seconds = time.perf_counter() - started
    print(table(rows))
    if "cost" in data:
        print("\nThe monthly bill\n\n" + data["cost"]["bill"])
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps({"rows": [asdict(row) for row in rows], "data": data}, indent=2, default=str)
    )
    if options.write:
        write_benchmarks(rows, data, seconds, complete=set(groups) == set(GROUPS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
