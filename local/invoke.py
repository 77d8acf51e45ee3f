"""Calling a function's handler in-process, as Lambda would: by its handler name, with a context."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from functions.names import SERVICE_NAME
from local.resources import ACCOUNT_ID, LocalFunction

Handler = Callable[[dict[str, Any], Any], Any]


def reset_function_state(*, keep_clients: bool = False) -> None:
    """Forget what the functions cached (services, secrets, settings), so the next invocation
    reads the environment as it is now; with `keep_clients`, the boto3 session and clients stay
    (they are slow to make, and the tests of one session all talk to the same moto)."""
    for name, module in list(sys.modules.items()):
        if name != "functions" and not name.startswith("functions."):
            continue
        for attribute, value in vars(module).items():
            if getattr(value, "__module__", None) != name or not hasattr(value, "cache_clear"):
                continue
            if keep_clients and (name, attribute) in _CLIENT_CACHES:
                continue
            value.cache_clear()
    _log_level_from_environment()


def _log_level_from_environment() -> None:
    """Powertools gives the functions' one logger its level from POWERTOOLS_LOG_LEVEL once, when
    the first Logger is made, and that may be before the functions' environment was set: the
    stack imports function code while it is synthesized (`make demo` printed INFO lines)."""
    level = os.environ.get("POWERTOOLS_LOG_LEVEL")
    if level:
        logging.getLogger(SERVICE_NAME).setLevel(level.strip().upper())


_CLIENT_CACHES = {("functions.adapters.aws", "aws_service"), ("functions.adapters.aws", "_session")}


def load_handler(handler: str) -> Handler:
    module_name, _, attribute = handler.rpartition(".")
    function: Handler = getattr(importlib.import_module(module_name), attribute)
    return function


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that Powertools and the handlers read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    region: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)
    """When the invocation began (time.monotonic()): its remaining time counts down from here."""

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """What Lambda's context answers: the time left before the function times out."""
        elapsed = time.monotonic() - self.started
        return max(int((self.timeout_seconds - elapsed) * 1000), 0)


def lambda_context(
    function: LocalFunction, region: str, *, timeout_seconds: int | None = None
) -> LocalLambdaContext:
    """A new invocation's context; `timeout_seconds` replaces the function's own timeout (a test
    that needs the deadline close)."""
    return LocalLambdaContext(
        function_name=function.logical_id,
        memory_limit_in_mb=function.memory_size,
        timeout_seconds=function.timeout if timeout_seconds is None else timeout_seconds,
        region=region,
    )
