"""The postback token from Secrets Manager, cached across invocations."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import error_code
from functions.postback.ports import TokenUnavailable

TOKEN_CACHE_SECONDS = 300.0
RETRY_AFTER_FAILURE_SECONDS = 30.0


class CachedSecret:
    """A secret string read by ARN, kept for `max_age` seconds; a stale value is used while a
    refresh fails, so a brief Secrets Manager outage does not turn CallFire away."""

    def __init__(
        self,
        client: Any,
        secret_arn: str,
        *,
        max_age: float = TOKEN_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._secret_arn = secret_arn
        self._max_age = max_age
        self._clock = clock
        self._value: str | None = None
        self._fetched_at = 0.0

    def expected_token(self) -> str:
        if self._value is None or self._clock() - self._fetched_at > self._max_age:
            self._value = self._refresh(self._value)
        return self._value

    def _refresh(self, stale: str | None) -> str:
        try:
            response = self._client.get_secret_value(SecretId=self._secret_arn)
        except (ClientError, BotoCoreError) as error:
            if stale is None:
                raise TokenUnavailable(error_code(error)) from error
            self._fetched_at = self._clock() - self._max_age + RETRY_AFTER_FAILURE_SECONDS
            return stale
        self._fetched_at = self._clock()
        return str(response["SecretString"])
