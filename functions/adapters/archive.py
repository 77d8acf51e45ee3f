"""Bodies kept in S3 as received: `rejected/` and `unstored/`, by day, named by request id."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.failures import ArchiveUnavailable

RECEIVED_AT_METADATA = "received-at"
CONTENT_ENCODING_METADATA = "content-encoding"


def archive_key(prefix: str, received_at: datetime, request_id: str) -> str:
    day = received_at.astimezone(UTC).strftime("%Y/%m/%d")
    safe_id = "".join(ch if ch.isalnum() or ch in "-_=." else "_" for ch in request_id)
    return f"{prefix}{day}/{safe_id}.xml"


def _ascii(text: str, limit: int = 512) -> str:
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text[:limit])


class S3BodyArchive:
    def __init__(self, s3: AwsService, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def keep(
        self,
        prefix: str,
        body: bytes,
        *,
        request_id: str,
        received_at: datetime,
        content_encoding: str | None,
        reason: str,
        detail: str,
        deadline: float,
    ) -> str:
        key = archive_key(prefix, received_at, request_id)
        metadata = {
            "reason": _ascii(reason, 64),
            "detail": _ascii(detail),
            "request-id": _ascii(request_id, 128),
            RECEIVED_AT_METADATA: received_at.astimezone(UTC).isoformat(),
        }
        if content_encoding:
            metadata[CONTENT_ENCODING_METADATA] = _ascii(content_encoding, 32)
        try:
            self._s3.call(
                "put_object",
                deadline,
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/xml",
                Metadata=metadata,
            )
        except (ClientError, BotoCoreError) as error:
            raise ArchiveUnavailable(error_code(error)) from error
        return key
