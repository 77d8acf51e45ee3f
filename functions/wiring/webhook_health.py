"""The webhook health check assembled from the environment the stack sets."""

from __future__ import annotations

import os
from functools import cache

from functions.adapters.aws import aws_service
from functions.adapters.callfire_v2 import CallfireV2Webhooks
from functions.adapters.secrets import CachedSecret
from functions.credentials import read_credentials
from functions.names import DEFAULT_CALLFIRE_V2_BASE_URL, Env
from functions.webhook_registration.health import HealthCheck
from functions.webhook_registration.manager import WebhookManager


@cache
def health_check() -> HealthCheck:
    env = os.environ
    return HealthCheck(
        name_prefix=env[Env.WEBHOOK_NAME_PREFIX],
        callback=env[Env.WEBHOOK_URL],
        repair=env.get(Env.REPAIR_WEBHOOKS, "false").lower() == "true",
    )


@cache
def _credentials_secret() -> CachedSecret:
    return CachedSecret(
        aws_service("secretsmanager"), os.environ[Env.CALLFIRE_API_CREDENTIALS_SECRET_ARN]
    )


def webhook_manager(*, deadline: float) -> WebhookManager:
    """Raises SecretUnavailable or InvalidCredentials."""
    credentials = read_credentials(_credentials_secret().value(deadline=deadline))
    base_url = os.environ.get(Env.CALLFIRE_V2_BASE_URL) or DEFAULT_CALLFIRE_V2_BASE_URL
    return WebhookManager(CallfireV2Webhooks(base_url, credentials))


def webhook_secret(*, deadline: float) -> str | None:
    """The webhook secret when repairs are on (the role may read it only then)."""
    secret_arn = os.environ.get(Env.WEBHOOK_SECRET_ARN)
    if not secret_arn or not health_check().repair:
        return None
    return CachedSecret(aws_service("secretsmanager"), secret_arn).value(deadline=deadline)
