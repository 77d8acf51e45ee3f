"""Runs the template's functions in this process, as Lambda would: each with the environment the
template gives it, one invocation at a time per function (like one warm instance, which also
keeps Powertools' per-invocation state from mixing)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from local.invoke import lambda_context, load_handler
from local.resources import LocalFunction


class EnvironmentConflict(RuntimeError):
    pass


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
    def __init__(self, functions: Mapping[str, LocalFunction], region: str) -> None:
        self.functions = dict(functions)
        self._region = region
        self._locks = {logical_id: threading.Lock() for logical_id in self.functions}

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        function = self.functions[logical_id]
        with self._locks[logical_id]:
            handler = load_handler(function.handler)
            return handler(event, lambda_context(function, self._region))
