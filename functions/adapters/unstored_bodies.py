"""The bodies under `unstored/`, listed from S3 with the tag the replay tool sets."""

from __future__ import annotations

from collections.abc import Iterator

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.failures import ArchiveUnavailable
from functions.names import ArchiveTag, Prefix
from functions.unstored_watch.ports import ArchivedBody


class S3UnstoredBodies:
    def __init__(self, s3: AwsService, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def listing(self, *, deadline: float) -> Iterator[ArchivedBody]:
        token: dict[str, str] = {}
        while True:
            try:
                page = self._s3.call(
                    "list_objects_v2",
                    deadline,
                    Bucket=self._bucket,
                    Prefix=Prefix.UNSTORED,
                    **token,
                )
            except (ClientError, BotoCoreError) as error:
                raise ArchiveUnavailable(error_code(error)) from error
            for entry in page.get("Contents", []):
                yield ArchivedBody(entry["Key"], entry["LastModified"])
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def replayed(self, key: str, *, deadline: float) -> bool:
        try:
            tags = self._s3.call("get_object_tagging", deadline, Bucket=self._bucket, Key=key)[
                "TagSet"
            ]
        except (ClientError, BotoCoreError) as error:
            raise ArchiveUnavailable(error_code(error)) from error
        return any(tag["Key"] == ArchiveTag.REPLAYED for tag in tags)
