"""Bodies kept in S3 as received: `rejected/` and `unstored/`, by day, named by request id; and
v2 webhook events of other resource types under `events/`."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.failures import ArchiveUnavailable

RECEIVED_AT_METADATA = "received-at"
CONTENT_ENCODING_METADATA = "content-encoding"


CONTENT_TYPES = {"xml": "application/xml", "json": "application/json"}
_ALREADY_THERE = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


def archive_key(prefix: str, received_at: datetime, request_id: str, extension: str = "xml") -> str:
    day = received_at.astimezone(UTC).strftime("%Y/%m/%d")
    safe_id = "".join(ch if ch.isalnum() or ch in "-_=." else "_" for ch in request_id)
    return f"{prefix}{day}/{safe_id}.{extension}"


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
        extension: str = "xml",
    ) -> str:
        key = archive_key(prefix, received_at, request_id, extension)
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
                ContentType=CONTENT_TYPES[extension],
                Metadata=metadata,
            )
        except (ClientError, BotoCoreError) as error:
            raise ArchiveUnavailable(error_code(error)) from error
        return key

    def keep_event(self, key: str, event: str, *, received_at: datetime, deadline: float) -> bool:
        """Written once (`If-None-Match: *`): the same event delivered again leaves one object and
        one version in the versioned bucket."""
        try:
            self._s3.call(
                "put_object",
                deadline,
                Bucket=self._bucket,
                Key=key,
                Body=event.encode("utf-8"),
                ContentType=CONTENT_TYPES["json"],
                Metadata={RECEIVED_AT_METADATA: received_at.astimezone(UTC).isoformat()},
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error_code(error) in _ALREADY_THERE:
                return False
            raise ArchiveUnavailable(error_code(error)) from error
        except BotoCoreError as error:
            raise ArchiveUnavailable(error_code(error)) from error
        return True
