"""Runs the template's functions in this process, as Lambda would: each with the environment the
template gives it, one invocation at a time per function (like one warm instance, which also
keeps Powertools' per-invocation state from mixing), and stopped waiting for at the function's
timeout from the template, as Lambda stops an invocation that runs past it
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from local.invoke import lambda_context, load_handler
from local.logs import FunctionLogs
from local.resources import LocalFunction


class EnvironmentConflict(RuntimeError):
    pass


class FunctionTimedOut(RuntimeError):
    """The invocation ran past the function's timeout (Lambda's `Sandbox.Timedout` error)."""


Wait = Callable[[threading.Event, float], bool]
"""Waits up to some seconds for an invocation to finish; True when it did."""


def _wait(done: threading.Event, seconds: float) -> bool:
    return done.wait(seconds)


def merged_environment(functions: Mapping[str, LocalFunction]) -> dict[str, str]:
    """One process environment for every function: they must agree on every shared name."""
    merged: dict[str, str] = {}
    for function in functions.values():
        for name, value in function.environment.items():
            if merged.get(name, value) != value:
                raise EnvironmentConflict(
                    f"{name} differs between functions; they cannot share this process"
                )
            merged[name] = value
    return merged


@contextmanager
def patched_environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class FunctionRunner:
    def __init__(
        self,
        functions: Mapping[str, LocalFunction],
        region: str,
        *,
        wait: Wait = _wait,
        logs: FunctionLogs | None = None,
    ) -> None:
        """`wait` stands in for the passing of time in tests: it decides whether an invocation
        finished within the function's timeout. `logs` keeps each invocation's log lines its
        own (installed by the caller), and is told of each invocation."""
        self.functions = dict(functions)
        self._region = region
        self._wait = wait
        self._logs = logs or FunctionLogs()
        self._locks = {logical_id: threading.Lock() for logical_id in self.functions}

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """The handler's result, or its exception; FunctionTimedOut when it runs past the
        function's timeout. A timed-out handler's thread cannot be stopped: it is left to finish
        on its own, and the next invocation does not wait for it (Lambda would have ended it)."""
        function = self.functions[logical_id]
        with self._locks[logical_id]:
            handler = load_handler(function.handler)
            context = lambda_context(function, self._region)
            outcome: dict[str, Any] = {}
            done = threading.Event()

            def run() -> None:
                try:
                    with self._logs.invocation(logical_id, event) as seen:
                        try:
                            outcome["result"] = seen.result = handler(event, context)
                        except BaseException as error:  # handed to the caller, as Lambda does
                            outcome["error"] = seen.error = error
                finally:
                    done.set()

            threading.Thread(target=run, daemon=True, name=f"lambda-{logical_id}").start()
            if not self._wait(done, function.timeout):
                raise FunctionTimedOut(f"Task timed out after {function.timeout:.2f} seconds")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")
