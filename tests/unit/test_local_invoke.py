"""Calling the functions in-process: their cached state, and their log level, follow the
environment as it is when the state is reset."""

from __future__ import annotations

import logging

import pytest
from aws_lambda_powertools import Logger

from functions.names import SERVICE_NAME
from local.invoke import reset_function_state


def test_the_log_level_follows_the_environment_even_after_a_logger_was_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stack's synthesis imports function code, making the functions' logger before the
    local system sets their environment (`make demo` then printed every INFO line)."""
    shared = logging.getLogger(SERVICE_NAME)
    before = shared.level
    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
    Logger(service=SERVICE_NAME)
    try:
        monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "error")
        reset_function_state(keep_clients=True)

        assert shared.level == logging.ERROR
        assert not Logger(service=SERVICE_NAME).isEnabledFor(logging.INFO)
    finally:
        shared.setLevel(before)
