"""The functions' log lines on this machine.

On AWS each function runs in its own process, so Powertools' per-process log state (the keys that
`inject_lambda_context` and `append_keys` put on every line, the level read from the environment
at start) belongs to one function. Here every function runs in one process, and every `Logger` of
the service shares one handler and one formatter: an invocation of one function would print the
keys of another that runs at the same moment (its request id, `callId`, even its function name),
or clear them. `FunctionLogs` gives each invocation thread its own copy of that formatter, as each
Lambda environment has its own, and reads the log level from the environment as a new Lambda
environment does.

It also collects each invocation's lines, for `make local`'s readable log: one line per
invocation (`readable_line`), or the Powertools JSON lines as they are (`--log json`).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from functions.names import SERVICE_NAME

_invocation = threading.local()


@dataclass
class Invocation:
    """One invocation of a function, as the readable log prints it."""

    function_id: str
    event: dict[str, Any]
    started_at: datetime = field(default_factory=datetime.now)
    result: Any = None
    error: BaseException | None = None
    milliseconds: float = 0.0
    lines: list[dict[str, Any]] = field(default_factory=list)
    """The Powertools lines it printed, parsed."""


Observer = Callable[[Invocation], None]


class _PerThreadFormatter(logging.StreamHandler):  # type: ignore[type-arg]
    """Powertools' own handler object (every Logger holds it), its class swapped for this one:
    `formatter` is the current thread's copy of the formatter it had."""

    @property  # type: ignore[override]
    def formatter(self) -> logging.Formatter | None:
        state = self.__dict__["_per_thread"]
        own = getattr(state, "formatter", None)
        if own is None:
            own = _copy_formatter(self.__dict__["_base_formatter"])
            state.formatter = own
        return own

    @formatter.setter
    def formatter(self, value: logging.Formatter | None) -> None:
        self.__dict__["_base_formatter"] = value
        self.__dict__["_per_thread"] = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines: list[dict[str, Any]] | None = getattr(_invocation, "lines", None)
        if lines is None or self.__dict__["_json_lines"]:
            super().emit(record)
        if lines is not None:
            try:
                lines.append(json.loads(self.format(record)))
            except ValueError:
                return


def _copy_formatter(base: logging.Formatter | None) -> logging.Formatter | None:
    if base is None:
        return None
    own = copy.copy(base)
    for name in ("log_format", "keys_combined"):
        if isinstance(getattr(base, name, None), dict):
            setattr(own, name, dict(getattr(base, name)))
    if hasattr(own, "append_keys"):
        own.update_formatter = own.append_keys  # type: ignore[attr-defined]
    return own


class FunctionLogs:
    def __init__(self, *, observe: Observer | None = None, json_lines: bool = True) -> None:
        """`observe` is told of every invocation once it ends; `json_lines` prints the
        functions' Powertools lines as they come (else only `observe` sees them)."""
        self._observe = observe
        self._json_lines = json_lines
        self._handler: logging.Handler | None = None
        self._saved: tuple[type, logging.Formatter | None, int] | None = None

    def install(self) -> FunctionLogs:
        """Call once the environment is the functions' own: the level is read from it."""
        powertools = Logger(service=SERVICE_NAME)
        handler = powertools.registered_handler
        self._saved = (type(handler), handler.formatter, logging.getLogger(SERVICE_NAME).level)
        base = handler.formatter
        handler.__class__ = _PerThreadFormatter
        handler.formatter = base
        handler.__dict__["_json_lines"] = self._json_lines
        powertools.setLevel(None)  # POWERTOOLS_LOG_LEVEL as the environment says now
        self._handler = handler
        return self

    def uninstall(self) -> None:
        if self._handler is None or self._saved is None:
            return
        kind, formatter, level = self._saved
        self._handler.__class__ = kind
        for name in ("_per_thread", "_base_formatter", "_json_lines"):
            self._handler.__dict__.pop(name, None)
        self._handler.formatter = formatter
        logging.getLogger(SERVICE_NAME).setLevel(level)
        self._handler = None

    @contextmanager
    def invocation(self, function_id: str, event: dict[str, Any]) -> Iterator[Invocation]:
        """Around one invocation, in the thread that runs it: its lines are its own."""
        seen = Invocation(function_id, event)
        _invocation.lines = seen.lines
        started = time.perf_counter()
        try:
            yield seen
        finally:
            seen.milliseconds = (time.perf_counter() - started) * 1000
            del _invocation.lines
            if self._observe is not None:
                try:
                    self._observe(seen)
                except Exception as error:  # a log line must never fail an invocation
                    print(f"(local log: {error!r})", file=sys.stderr)


_KIND_KEYS = ("status", "error")
_CDK_SUFFIX = re.compile(r"(?:Function)?[0-9A-F]{8}$")
"""What CDK adds to a construct's name to make a logical id: `RecordingsCopierFunctionDE40E499`
reads `RecordingsCopier`."""


def readable_line(invocation: Invocation) -> str:
    """One line: time, route or function, status, kind, ids, milliseconds; and the reason of a
    warning or error the invocation logged."""
    what, status, kind = _what_happened(invocation)
    ids = _ids(invocation.lines)
    reason = _reason(invocation)
    parts = [
        invocation.started_at.strftime("%H:%M:%S"),
        f"{what:<28}",
        f"{status:<5}",
        f"{kind:<12}",
        f"{ids:<28}",
        f"{invocation.milliseconds:>6.0f} ms",
    ]
    return "  ".join(parts).rstrip() + (f"  {reason}" if reason else "")


def _what_happened(invocation: Invocation) -> tuple[str, str, str]:
    event, result = invocation.event, invocation.result
    if "routeKey" in event:
        what = f"{event.get('requestContext', {}).get('http', {}).get('method', '')} " + str(
            event.get("rawPath", "")
        )
        if invocation.error is not None or not isinstance(result, dict):
            return what, "500", "error"
        return what, str(result.get("statusCode", 200)), _answer_kind(result.get("body"))
    what = _CDK_SUFFIX.sub("", invocation.function_id) or invocation.function_id
    if invocation.error is not None:
        return what, "error", type(invocation.error).__name__
    records = event.get("Records") or []
    failed = len(result.get("batchItemFailures", [])) if isinstance(result, dict) else 0
    if records:
        source = str(records[0].get("eventSource", "")).removeprefix("aws:")
        kind = f"{len(records) - failed}/{len(records)} ok"
        return f"{what} ({source})", "ok" if not failed else "retry", kind
    if "RequestType" in event:
        return what, "ok", str(event["RequestType"])
    return what, "ok", ""


def _answer_kind(body: Any) -> str:
    try:
        answer = json.loads(body) if isinstance(body, str) else {}
    except ValueError:
        return ""
    if not isinstance(answer, dict):
        return ""
    for key in _KIND_KEYS:
        if answer.get(key):
            return str(answer[key])
    return str(answer.get("message", ""))


def _ids(lines: list[dict[str, Any]]) -> str:
    found: dict[str, str] = {}
    for line in lines:
        for key, label in (("callId", "call"), ("campaignId", "campaign")):
            if line.get(key) and label not in found:
                found[label] = str(line[key])
        if "recording" in line and "recording" not in found:
            found["recording"] = f"#{line['recording']}"
    return " ".join(f"{label} {value}" for label, value in found.items())


def _reason(invocation: Invocation) -> str:
    if invocation.error is not None:
        return f"raised {type(invocation.error).__name__}: {invocation.error}"
    for line in invocation.lines:
        if line.get("level") in ("WARNING", "ERROR", "CRITICAL") and not _is_local_notice(line):
            detail = line.get("reason") or line.get("error") or line.get("detail") or ""
            return f"{line.get('message', '')}" + (f": {detail}" if detail else "")
    return ""


def _is_local_notice(line: dict[str, Any]) -> bool:
    """The recordings function's warning that the local system lets it fetch from the stand-in:
    expected here (docs/local.md says why), so not the reason of anything."""
    return "a test or local setting" in str(line.get("message", ""))
