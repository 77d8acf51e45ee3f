"""Bodies kept in S3 as received: `rejected/` and `unstored/`, by day, named by request id; and
v2 webhook events of other resource types under `events/`.

A body whose report could be read is also indexed, so that erasure finds it without reading every
archived object: one empty marker object per link (phone number by keyed hash, call id, campaign
id) under `archive-index/` points at the body. The body is written first, naming its call and
campaign links in its `links` metadata (the phone links need the salt, which may take a request):
the index must never cost a body its place, so the salt and the markers get what time is left.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.failures import ArchiveUnavailable, SecretUnavailable
from functions.names import ARCHIVE_INDEX_PREFIXES, SERVICE_NAME, Prefix
from functions.postback.ports import SecretValue
from functions.reports.links import Links

RECEIVED_AT_METADATA = "received-at"
CONTENT_ENCODING_METADATA = "content-encoding"
LINKS_METADATA = "links"
"""Space-separated `<kind>/<hash>` names of the body's call and campaign markers."""

logger = Logger(service=SERVICE_NAME)


CONTENT_TYPES = {"xml": "application/xml", "json": "application/json"}
_ALREADY_THERE = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


def archive_key(prefix: str, received_at: datetime, request_id: str, extension: str = "xml") -> str:
    day = received_at.astimezone(UTC).strftime("%Y/%m/%d")
    safe_id = "".join(ch if ch.isalnum() or ch in "-_=." else "_" for ch in request_id)
    return f"{prefix}{day}/{safe_id}.{extension}"


def index_prefix(archive_prefix: str) -> str:
    """`archive-index/rejected/` for `rejected/`: markers expire with the bodies they find."""
    return ARCHIVE_INDEX_PREFIXES.get(archive_prefix, f"{Prefix.ARCHIVE_INDEX}{archive_prefix}")


def marker_key(archived_key: str, link_name: str) -> str:
    """`archive-index/rejected/phone/<hash>/2026/11/28/<id>.xml` for the body
    `rejected/2026/11/28/<id>.xml` and the link `phone/<hash>`."""
    prefix, _, rest = archived_key.partition("/")
    return f"{index_prefix(prefix + '/')}{link_name}/{rest}"


def archived_key_of(marker: str) -> str:
    """The body a marker points at (the inverse of `marker_key`)."""
    prefix, _kind, _hash, rest = marker.removeprefix(Prefix.ARCHIVE_INDEX).split("/", 3)
    return f"{prefix}/{rest}"


def _ascii(text: str, limit: int = 512) -> str:
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text[:limit])


class S3BodyArchive:
    def __init__(self, s3: AwsService, bucket: str, salt: SecretValue | None = None) -> None:
        """`salt` keys the hashes of phone numbers in the index; without it (or while it cannot
        be read) bodies are indexed by call and campaign id only."""
        self._s3 = s3
        self._bucket = bucket
        self._salt = salt

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
        links: Links | None = None,
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
        if links is not None and (unsalted := links.names(None)):
            metadata[LINKS_METADATA] = " ".join(unsalted)
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
        if links is not None:
            self._index(key, links, deadline)
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

    def _index(self, key: str, links: Links, deadline: float) -> None:
        """One marker per link. A marker that cannot be written is logged and left out: the body
        stays findable by its other links, or by reading it (`tools.erase --deep`)."""
        for name in links.names(self._salt_value(deadline)):
            try:
                self._s3.call(
                    "put_object",
                    deadline,
                    Bucket=self._bucket,
                    Key=marker_key(key, name),
                    Body=b"",
                )
            except (ClientError, BotoCoreError) as error:
                logger.warning(
                    "archive index marker not written", extra={"error": error_code(error)}
                )

    def _salt_value(self, deadline: float) -> str | None:
        if self._salt is None:
            return None
        try:
            return self._salt.value(deadline=deadline)
        except SecretUnavailable as error:
            logger.warning(
                "hash salt unreadable; body indexed without its phone numbers",
                extra={"error": error.code},
            )
            return None
