"""The registration service assembled: Secrets Manager for the two secrets, urllib for CallFire,
its last result kept in the bucket (`status/registration.json`) for `make status`; and the time
it needs."""

from __future__ import annotations

import os
from functools import cache

from functions.adapters.aws import NORMAL_TIER, attempt_seconds, aws_service
from functions.adapters.form_post import UrllibFormPoster
from functions.adapters.secrets import SecretsManagerValues
from functions.adapters.status import S3StatusObject
from functions.names import Env, StatusObject
from functions.registration.service import RegistrationService, RetryPolicy

POLICY = RetryPolicy()
SAFETY_SECONDS = 5.0
"""Time kept back from the function's timeout to fail with a message rather than be cut off."""


def worst_case_seconds(endpoints: int) -> float:
    """The longest a deployment's subscription may take when CallFire times out every time: both
    secrets read, then every attempt at every endpoint with its longest pause, its result
    recorded for `make status`, and the margin. The function's timeout must cover it (past it,
    the service stops by itself with a message)."""
    attempts = endpoints * POLICY.attempts
    return (
        2 * attempt_seconds("secretsmanager", NORMAL_TIER)
        + attempts * POLICY.timeout_seconds
        + (attempts - endpoints) * POLICY.max_backoff_seconds
        + attempt_seconds("s3", NORMAL_TIER)
        + SAFETY_SECONDS
    )


@cache
def registration_service() -> RegistrationService:
    bucket = os.environ.get(Env.BUCKET)
    return RegistrationService(
        secrets=SecretsManagerValues(aws_service("secretsmanager")),
        poster=UrllibFormPoster(),
        policy=POLICY,
        status=(
            S3StatusObject(aws_service("s3"), bucket, StatusObject.REGISTRATION) if bucket else None
        ),
    )
