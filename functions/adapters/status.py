"""A function's last result, kept as one JSON object under `status/` in the bucket, where the
status tool (`make status`) reads it. Each write replaces the last (the bucket keeps 30 days of
earlier versions)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.failures import StatusUnavailable


class S3StatusObject:
    def __init__(self, s3: AwsService, bucket: str, key: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._key = key

    def record(self, record: Mapping[str, Any], *, deadline: float) -> None:
        """Raises StatusUnavailable (also when no attempt fits before `deadline`)."""
        try:
            self._s3.call(
                "put_object",
                deadline,
                Bucket=self._bucket,
                Key=self._key,
                Body=json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8"),
                ContentType="application/json",
            )
        except (ClientError, BotoCoreError) as error:
            raise StatusUnavailable(error_code(error)) from None
