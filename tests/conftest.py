"""Shared by every test: fake AWS credentials (nothing may reach a real account) and the stack's
template, synthesized once per session with cdk-nag on."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.helpers import REGION

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


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    from local.template import synthesize

    return synthesize()
