"""Shared by every test: fake AWS credentials (nothing may reach a real account) and the stack's
template, synthesized once per session with cdk-nag on."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest

from infra.toolchain import prefer_project_node
from tests.helpers import REGION, STEWARDED_CONTEXT

prefer_project_node()

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_DEV": "false",
    }
)
for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
    os.environ.pop(variable, None)


@pytest.fixture
def log_output() -> Iterator[list[str]]:
    """Every line the functions log while the test runs, formatted as Lambda receives it."""
    from aws_lambda_powertools import Logger

    from functions.names import SERVICE_NAME

    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(Logger(service=SERVICE_NAME).registered_formatter)
    logging.getLogger(SERVICE_NAME).addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger(SERVICE_NAME).removeHandler(handler)


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    from local.template import synthesize

    return synthesize()


V2_CONTEXT = {
    "callfireApi": "both",
    "callfireApiCredentialsSecretName": "callfire/api-credentials",
    "callfireApiKeySecretName": "callfire/api-key",
}
"""A stack that registers both generations with CallFire (webhooks, health, subscription)."""


@pytest.fixture(scope="session")
def v2_template() -> dict[str, Any]:
    from local.template import synthesize

    return synthesize(V2_CONTEXT)


@pytest.fixture(scope="session")
def stewarded_template() -> dict[str, Any]:
    """The template with retention for every kind of data and a customer-managed key."""
    from local.template import synthesize

    return synthesize(STEWARDED_CONTEXT)


@pytest.fixture(scope="session")
def v2_stewarded_template() -> dict[str, Any]:
    """Both generations registered, with retention and a customer-managed key."""
    from local.template import synthesize

    return synthesize({**V2_CONTEXT, **STEWARDED_CONTEXT})
