"""The webhook registration service assembled: Secrets Manager for the secrets, urllib for
CallFire's v2 webhooks API."""

from __future__ import annotations

from functools import cache

from functions.adapters.aws import aws_service
from functions.adapters.callfire_v2 import CallfireV2Webhooks
from functions.adapters.secrets import SecretsManagerValues
from functions.webhook_registration.manager import RetryPolicy
from functions.webhook_registration.registration import WebhookRegistration

POLICY = RetryPolicy()


@cache
def webhook_registration() -> WebhookRegistration:
    return WebhookRegistration(
        secrets=SecretsManagerValues(aws_service("secretsmanager")),
        api=CallfireV2Webhooks,
        policy=POLICY,
    )
