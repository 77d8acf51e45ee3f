"""CallFire's API key and v2 API credentials from Secrets Manager, read when first needed and
cached (never logged)."""

from __future__ import annotations

from functions.adapters.aws import AwsService
from functions.adapters.secrets import CachedSecret
from functions.credentials import Credentials, InvalidCredentials, read_credentials
from functions.failures import SecretUnavailable
from functions.recordings.ports import RetryLater


class SecretApiKey:
    """The secret's whole SecretString is the key (surrounding white space ignored)."""

    def __init__(self, secretsmanager: AwsService, secret_arn: str) -> None:
        self._secret = CachedSecret(secretsmanager, secret_arn)

    def __call__(self, deadline: float) -> str | None:
        try:
            return self._secret.value(deadline=deadline).strip() or None
        except SecretUnavailable as error:
            raise RetryLater(f"CallFire's API key cannot be read: {error.code}") from None


class SecretCredentials:
    """The secret's SecretString is JSON `{"username": ..., "password": ...}`."""

    def __init__(self, secretsmanager: AwsService, secret_arn: str) -> None:
        self._secret = CachedSecret(secretsmanager, secret_arn)

    def __call__(self, deadline: float) -> Credentials:
        try:
            text = self._secret.value(deadline=deadline)
        except SecretUnavailable as error:
            raise RetryLater(f"CallFire's API credentials cannot be read: {error.code}") from None
        try:
            return read_credentials(text)
        except InvalidCredentials as error:
            raise RetryLater(f"the API credentials secret is not usable: {error}") from None
