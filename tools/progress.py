"""Progress of a long run, shared by the tools: a bar on a terminal, a line per tenth of the work
elsewhere (CI logs), and the tally of outcomes at the end."""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO


class Progress:
    """`total` may be an estimate (DynamoDB's item count lags by hours): the bar stops full."""

    def __init__(self, label: str, total: int, stream: TextIO = sys.stderr) -> None:
        self._label = label
        self._total = max(total, 0)
        self._stream = stream
        self._done = 0
        self._last_tenth = 0
        self.tally: Counter[str] = Counter()

    def step(self, outcome: str, count: int = 1) -> None:
        """`count` more done (a page of a scan, a batch of deletions), all with `outcome`."""
        self._done += count
        self.tally[outcome] += count
        if self._stream.isatty():
            self._stream.write("\r" + self._line())
            self._stream.flush()
        elif self._total and (tenth := self._done * 10 // self._total) != self._last_tenth:
            self._last_tenth = tenth
            self._stream.write(self._line() + "\n")

    def finish(self) -> Counter[str]:
        if self._stream.isatty():
            self._stream.write("\r" + self._line() + "\n")
        elif not self._total:
            self._stream.write(self._line() + "\n")
        return self.tally

    def _line(self) -> str:
        width = 30
        filled = min(width * self._done // self._total, width) if self._total else width
        counts = ", ".join(f"{name} {count}" for name, count in sorted(self.tally.items()))
        bar = "#" * filled + "." * (width - filled)
        return f"{self._label} [{bar}] {self._done}/{self._total} {counts}"
