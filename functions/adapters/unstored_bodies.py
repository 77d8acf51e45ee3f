"""The bodies under `unstored/`, listed from S3 with the tag the replay tool sets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import error_code
from functions.failures import ArchiveUnavailable
from functions.names import ArchiveTag, Prefix
from functions.unstored_watch.ports import ArchivedBody


class S3UnstoredBodies:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def listing(self) -> Iterator[ArchivedBody]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=Prefix.UNSTORED
        )
        try:
            for page in pages:
                for entry in page.get("Contents", []):
                    yield ArchivedBody(entry["Key"], entry["LastModified"])
        except (ClientError, BotoCoreError) as error:
            raise ArchiveUnavailable(error_code(error)) from error

    def replayed(self, key: str) -> bool:
        try:
            tags = self._client.get_object_tagging(Bucket=self._bucket, Key=key)["TagSet"]
        except (ClientError, BotoCoreError) as error:
            raise ArchiveUnavailable(error_code(error)) from error
        return any(tag["Key"] == ArchiveTag.REPLAYED for tag in tags)
