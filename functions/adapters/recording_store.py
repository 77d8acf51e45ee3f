"""Recordings in the bucket: streamed in parts (one part in memory at a time), written only where
no object is yet (the bucket is versioned: a second write would be a second version). An object
already there from the same URL (an earlier attempt whose item update failed) is taken as the
copy; looking for it before each copy would cost an S3 LIST per recording, for a rare case.

Every write names its checksum algorithm, CRC32, the same on the upload's creation, on each part
and (with each part's checksum) on its completion, as S3 requires of a multipart upload ("This
checksum algorithm must be the same for all parts and it match the checksum value supplied in the
CreateMultipartUpload request", UploadPart's ChecksumAlgorithm in S3's API reference). Left to
botocore's defaults, from 1.36 each part would carry a CRC32 that the creation and the completion
do not name, a mix S3 refuses or answers unpredictably."""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import NORMAL_TIER, AwsService, attempt_seconds, error_code
from functions.recordings.ports import CannotCopy, Readable, RetryLater, StoredRecording

PART_BYTES = 8 * 1024 * 1024
"""S3 parts are at least 5 MiB (but the last); 8 MiB parts take files up to 80 GB in 10,000."""
SOURCE_METADATA = "source-sha256"
_ALREADY_THERE = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
CHECKSUM_ALGORITHM = "CRC32"
ABORT_SECONDS = attempt_seconds("s3", NORMAL_TIER)
"""An upload that fails is aborted within this long after the transfer's deadline."""


def source_digest(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


class S3RecordingStore:
    def __init__(self, s3: AwsService, bucket: str, *, part_bytes: int = PART_BYTES) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._part_bytes = part_bytes

    def put(
        self, key: str, body: Readable, *, content_type: str, source: str, deadline: float
    ) -> StoredRecording:
        metadata = {SOURCE_METADATA: source_digest(source)}
        buffer = bytearray(self._part_bytes)
        filled = _fill(buffer, body)
        try:
            if filled < self._part_bytes:
                del buffer[filled:]
                self._s3.call(
                    "put_object",
                    deadline,
                    Bucket=self._bucket,
                    Key=key,
                    Body=buffer,
                    ContentType=content_type,
                    Metadata=metadata,
                    ChecksumAlgorithm=CHECKSUM_ALGORITHM,
                    IfNoneMatch="*",
                )
                return StoredRecording(key, content_type, filled)
            return self._put_in_parts(key, buffer, body, content_type, metadata, deadline=deadline)
        except ClientError as error:
            if error_code(error) in _ALREADY_THERE:
                return self._existing(key, source, deadline)
            raise RetryLater(f"the recording cannot be stored: {error_code(error)}") from error
        except BotoCoreError as error:
            raise RetryLater(f"the recording cannot be stored: {error_code(error)}") from error

    def _put_in_parts(
        self,
        key: str,
        buffer: bytearray,
        body: Readable,
        content_type: str,
        metadata: dict[str, str],
        *,
        deadline: float,
    ) -> StoredRecording:
        """`buffer` holds the first part; each next part is read into it once the previous one
        is sent, so one part is all the memory a recording of any size takes."""
        upload_id = self._s3.call(
            "create_multipart_upload",
            deadline,
            Bucket=self._bucket,
            Key=key,
            ContentType=content_type,
            Metadata=metadata,
            ChecksumAlgorithm=CHECKSUM_ALGORITHM,
        )["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            size, filled = 0, len(buffer)
            while filled:
                if filled < len(buffer):
                    del buffer[filled:]
                number = len(parts) + 1
                response = self._s3.call(
                    "upload_part",
                    deadline,
                    Bucket=self._bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=buffer,
                    ChecksumAlgorithm=CHECKSUM_ALGORITHM,
                )
                parts.append(
                    {
                        "PartNumber": number,
                        "ETag": response["ETag"],
                        "ChecksumCRC32": response["ChecksumCRC32"],
                    }
                )
                size += filled
                filled = _fill(buffer, body) if filled == self._part_bytes else 0
            self._s3.call(
                "complete_multipart_upload",
                deadline,
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                IfNoneMatch="*",
            )
        except BaseException:
            self._abort(key, upload_id, deadline + ABORT_SECONDS)
            raise
        return StoredRecording(key, content_type, size)

    def _existing(self, key: str, source: str, deadline: float) -> StoredRecording:
        try:
            head = self._s3.call("head_object", deadline, Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as error:
            raise RetryLater(f"the stored recording cannot be read: {error_code(error)}") from error
        if head.get("Metadata", {}).get(SOURCE_METADATA) != source_digest(source):
            raise CannotCopy(f"{key} already holds a recording from another URL")
        return StoredRecording(key, str(head.get("ContentType", "")), int(head["ContentLength"]))

    def _abort(self, key: str, upload_id: str, deadline: float) -> None:
        """Best effort: an upload never completed is no object, and the bucket's lifecycle rule
        removes its parts when the abort fails."""
        try:
            self._s3.call(
                "abort_multipart_upload", deadline, Bucket=self._bucket, Key=key, UploadId=upload_id
            )
        except (ClientError, BotoCoreError):
            return


def _fill(buffer: bytearray, body: Readable) -> int:
    """Read `body` into `buffer` until it is full or the body ends; the number of bytes read."""
    view = memoryview(buffer)
    filled = 0
    try:
        while filled < len(buffer):
            count = body.readinto(view[filled:])
            if count == 0:
                break
            filled += count
    finally:
        view.release()
    return filled
