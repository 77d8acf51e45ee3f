"""Bodies of stored reports whose items are too large to hold them: `raw/<sha256>.xml`, written
once (the key is the content's digest, so an object already there holds the same body);
`raw/<sha256>.json` for a v2 webhook event."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.failures import StorageUnavailable

_ALREADY_THERE = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


def _content_type(key: str) -> str:
    kind = "json" if key.endswith(".json") else "xml"
    return f"application/{kind}; charset=utf-8"


class S3RawBodies:
    def __init__(self, s3: AwsService, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def put(self, key: str, text: str, *, deadline: float) -> None:
        """Raises StorageUnavailable."""
        try:
            self._s3.call(
                "put_object",
                deadline,
                Bucket=self._bucket,
                Key=key,
                Body=text.encode("utf-8"),
                ContentType=_content_type(key),
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error_code(error) not in _ALREADY_THERE:
                raise StorageUnavailable(error_code(error)) from error
        except BotoCoreError as error:
            raise StorageUnavailable(error_code(error)) from error

    def text(self, key: str, *, deadline: float) -> str:
        """The body kept at `key`. Raises StorageUnavailable."""
        try:
            response = self._s3.call("get_object", deadline, Bucket=self._bucket, Key=key)
            return bytes(response["Body"].read()).decode("utf-8")
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(error_code(error)) from error
