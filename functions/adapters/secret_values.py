"""Secret values read by ARN from Secrets Manager, once per use (no cache: deploy-time only)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import error_code
from functions.registration.ports import SecretUnavailable


class SecretsManagerValues:
    def __init__(self, client: Any) -> None:
        self._client = client

    def secret_string(self, secret_arn: str) -> str:
        try:
            response = self._client.get_secret_value(SecretId=secret_arn)
        except (ClientError, BotoCoreError) as error:
            raise SecretUnavailable(error_code(error)) from None
        value = response.get("SecretString")
        if value is None:
            raise SecretUnavailable("NoSecretString")
        return str(value)
