"""The S3 recording store on the moto bucket built from the template: parts, conditional writes
(a concurrent duplicate makes no second version), aborted uploads, earlier copies found."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from functions.adapters.recording_store import S3RecordingStore
from functions.names import Output
from functions.recordings.ports import CannotCopy, RetryLater, StoredRecording
from local.resources import LocalResources

MIB = 1024 * 1024
PART = 5 * MIB
SOURCE = "https://www.callfire.com/cloud/1/files/recording/1"


class Body:
    """A readable body that can break off after `fail_after` bytes."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        self._stream = io.BytesIO(data)
        self._fail_after = fail_after

    def readinto(self, buffer: memoryview) -> int:
        if self._fail_after is not None and self._stream.tell() >= self._fail_after:
            raise RetryLater("the download broke off: timed out")
        return self._stream.readinto(buffer[: 256 * 1024])


@pytest.fixture
def bucket(resources: LocalResources) -> str:
    return resources.outputs()[Output.BUCKET]


@pytest.fixture
def store(aws: Callable[[str], Any], bucket: str) -> S3RecordingStore:
    return S3RecordingStore(aws("s3"), bucket, part_bytes=PART)


@pytest.fixture
def stem() -> str:
    return f"recordings/22222/{uuid.uuid4().hex}/0"


def versions(aws: Callable[[str], Any], bucket: str, key: str) -> int:
    listing = aws("s3").list_object_versions(Bucket=bucket, Prefix=key)
    return len(listing.get("Versions", []))


def uploads(aws: Callable[[str], Any], bucket: str, key: str) -> list[str]:
    listing = aws("s3").list_multipart_uploads(Bucket=bucket, Prefix=key)
    return [upload["UploadId"] for upload in listing.get("Uploads", [])]


def test_a_small_recording_is_one_put_with_its_type_and_source(
    store: S3RecordingStore, aws: Callable[[str], Any], bucket: str, stem: str
) -> None:
    stored = store.put(f"{stem}.wav", Body(b"RIFF" * 10), content_type="audio/x-wav", source=SOURCE)

    assert stored == StoredRecording(f"{stem}.wav", "audio/x-wav", 40)
    head = aws("s3").head_object(Bucket=bucket, Key=f"{stem}.wav")
    assert head["Metadata"] == {"source-sha256": head["Metadata"]["source-sha256"]}
    assert len(head["Metadata"]["source-sha256"]) == 64


def test_a_large_recording_goes_in_parts_and_arrives_whole(
    store: S3RecordingStore, aws: Callable[[str], Any], bucket: str, stem: str
) -> None:
    data = bytes(range(256)) * (11 * MIB // 256)

    stored = store.put(f"{stem}.mp3", Body(data), content_type="audio/mpeg", source=SOURCE)

    assert stored.size == len(data)
    head = aws("s3").head_object(Bucket=bucket, Key=f"{stem}.mp3")
    assert head["ETag"].endswith('-3"'), "a multipart ETag names its number of parts"
    assert aws("s3").get_object(Bucket=bucket, Key=f"{stem}.mp3")["Body"].read() == data


@pytest.mark.parametrize("size", [10, 6 * MIB], ids=["put", "multipart"])
def test_a_concurrent_duplicate_makes_no_second_version(
    store: S3RecordingStore, aws: Callable[[str], Any], bucket: str, stem: str, size: int
) -> None:
    key = f"{stem}.wav"
    first = store.put(key, Body(b"a" * size), content_type="audio/x-wav", source=SOURCE)

    second = store.put(key, Body(b"b" * size), content_type="audio/x-wav", source=SOURCE)

    assert second == first
    assert versions(aws, bucket, key) == 1
    assert uploads(aws, bucket, key) == []


def test_a_key_held_by_another_recording_is_never_overwritten(
    store: S3RecordingStore, aws: Callable[[str], Any], bucket: str, stem: str
) -> None:
    key = f"{stem}.wav"
    store.put(key, Body(b"theirs"), content_type="audio/x-wav", source=SOURCE + "?other")

    with pytest.raises(CannotCopy, match="already holds a recording from another URL"):
        store.put(key, Body(b"ours"), content_type="audio/x-wav", source=SOURCE)
    assert versions(aws, bucket, key) == 1


def test_a_body_that_breaks_off_leaves_no_object_and_no_upload(
    store: S3RecordingStore, aws: Callable[[str], Any], bucket: str, stem: str
) -> None:
    key = f"{stem}.wav"

    with pytest.raises(RetryLater, match="broke off"):
        store.put(key, Body(b"x" * 12 * MIB, fail_after=7 * MIB), content_type="a", source=SOURCE)

    assert versions(aws, bucket, key) == 0
    assert uploads(aws, bucket, key) == []
