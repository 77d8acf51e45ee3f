"""The registration service assembled: Secrets Manager for the two secrets, urllib for CallFire."""

from __future__ import annotations

from functools import cache

from functions.adapters.aws import LazyClient
from functions.adapters.form_post import UrllibFormPoster
from functions.adapters.secrets import SecretsManagerValues
from functions.registration.service import RegistrationService, RetryPolicy

POLICY = RetryPolicy()


@cache
def registration_service() -> RegistrationService:
    return RegistrationService(
        secrets=SecretsManagerValues(LazyClient("secretsmanager")),
        poster=UrllibFormPoster(),
        policy=POLICY,
    )
