"""Secret strings read by ARN from Secrets Manager: as asked (deploy time) or cached across
invocations (the request path). No value ever reaches a log line or an error."""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.failures import SecretUnavailable

CACHE_SECONDS = 300.0
RETRY_AFTER_FAILURE_SECONDS = 30.0


class SecretsManagerValues:
    def __init__(self, secretsmanager: AwsService) -> None:
        self._secretsmanager = secretsmanager

    def secret_string(self, secret_arn: str, *, deadline: float) -> str:
        """The secret's current string. Raises SecretUnavailable."""
        try:
            response = self._secretsmanager.call("get_secret_value", deadline, SecretId=secret_arn)
        except (ClientError, BotoCoreError) as error:
            raise SecretUnavailable(error_code(error)) from None
        value = response.get("SecretString")
        if value is None:
            raise SecretUnavailable("NoSecretString")
        return str(value)


class CachedSecret:
    """One secret's string, kept for `max_age` seconds; a stale value is used while a refresh
    fails, so a brief Secrets Manager outage does not turn CallFire away."""

    def __init__(
        self,
        secretsmanager: AwsService,
        secret_arn: str,
        *,
        max_age: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = SecretsManagerValues(secretsmanager)
        self._secret_arn = secret_arn
        self._max_age = max_age
        self._clock = clock
        self._value: str | None = None
        self._fetched_at = 0.0

    def value(self, *, deadline: float) -> str:
        """Raises SecretUnavailable when the secret was never read and cannot be now."""
        if self._value is None or self._clock() - self._fetched_at > self._max_age:
            self._value = self._refresh(self._value, deadline)
        return self._value

    def _refresh(self, stale: str | None, deadline: float) -> str:
        try:
            fresh = self._source.secret_string(self._secret_arn, deadline=deadline)
        except SecretUnavailable:
            if stale is None:
                raise
            self._fetched_at = self._clock() - self._max_age + RETRY_AFTER_FAILURE_SECONDS
            return stale
        self._fetched_at = self._clock()
        return fresh
