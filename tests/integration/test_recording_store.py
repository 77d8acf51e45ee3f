"""The S3 recording store on the moto bucket built from the template: parts, conditional writes
(a concurrent duplicate makes no second version), aborted uploads, earlier copies found."""

from __future__ import annotations

import base64
import io
import re
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from defusedxml import ElementTree

from functions.adapters.aws import AwsService, aws_service
from functions.adapters.recording_store import PART_BYTES, S3RecordingStore
from functions.names import Output
from functions.recordings.ports import CannotCopy, RetryLater, StoredRecording
from local.resources import LocalResources

MIB = 1024 * 1024
PART = 5 * MIB
SOURCE = "https://www.callfire.com/cloud/1/files/recording/1"


def later() -> float:
    return time.monotonic() + 60


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
    return S3RecordingStore(AwsService.over(aws("s3")), bucket, part_bytes=PART)


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
    stored = store.put(
        f"{stem}.wav",
        Body(b"RIFF" * 10),
        content_type="audio/x-wav",
        source=SOURCE,
        deadline=later(),
    )

    assert stored == StoredRecording(f"{stem}.wav", "audio/x-wav", 40)
    head = aws("s3").head_object(Bucket=bucket, Key=f"{stem}.wav")
    assert head["Metadata"] == {"source-sha256": head["Metadata"]["source-sha256"]}
    assert len(head["Metadata"]["source-sha256"]) == 64


def test_a_large_recording_goes_in_parts_and_arrives_whole(
    store: S3RecordingStore, aws: Callable[[str], Any], bucket: str, stem: str
) -> None:
    data = bytes(range(256)) * (11 * MIB // 256)

    stored = store.put(
        f"{stem}.mp3", Body(data), content_type="audio/mpeg", source=SOURCE, deadline=later()
    )

    assert stored.size == len(data)
    head = aws("s3").head_object(Bucket=bucket, Key=f"{stem}.mp3")
    assert head["ETag"].endswith('-3"'), "a multipart ETag names its number of parts"
    assert aws("s3").get_object(Bucket=bucket, Key=f"{stem}.mp3")["Body"].read() == data


@pytest.mark.parametrize("size", [10, 6 * MIB], ids=["put", "multipart"])
def test_a_concurrent_duplicate_makes_no_second_version(
    store: S3RecordingStore, aws: Callable[[str], Any], bucket: str, stem: str, size: int
) -> None:
    key = f"{stem}.wav"
    first = store.put(
        key, Body(b"a" * size), content_type="audio/x-wav", source=SOURCE, deadline=later()
    )

    second = store.put(
        key, Body(b"b" * size), content_type="audio/x-wav", source=SOURCE, deadline=later()
    )

    assert second == first
    assert versions(aws, bucket, key) == 1
    assert uploads(aws, bucket, key) == []


def test_a_key_held_by_another_recording_is_never_overwritten(
    store: S3RecordingStore, aws: Callable[[str], Any], bucket: str, stem: str
) -> None:
    key = f"{stem}.wav"
    store.put(
        key, Body(b"theirs"), content_type="audio/x-wav", source=SOURCE + "?other", deadline=later()
    )

    with pytest.raises(CannotCopy, match="already holds a recording from another URL"):
        store.put(key, Body(b"ours"), content_type="audio/x-wav", source=SOURCE, deadline=later())
    assert versions(aws, bucket, key) == 1


def test_a_body_that_breaks_off_leaves_no_object_and_no_upload(
    store: S3RecordingStore, aws: Callable[[str], Any], bucket: str, stem: str
) -> None:
    key = f"{stem}.wav"

    with pytest.raises(RetryLater, match="broke off"):
        store.put(
            key,
            Body(b"x" * 12 * MIB, fail_after=7 * MIB),
            content_type="a",
            source=SOURCE,
            deadline=later(),
        )

    assert versions(aws, bucket, key) == 0
    assert uploads(aws, bucket, key) == []


def s3_member_doc(shape: str, member: str) -> str:
    """The S3 API reference's words, as botocore's own model carries them."""
    model = botocore.session.get_session().get_service_model("s3")
    return re.sub(r"<[^>]+>", "", model.shape_for(shape).members[member].documentation)


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_s3_requires_one_checksum_algorithm_across_a_multipart_upload() -> None:
    """What the code below is held to, from the S3 model botocore ships."""
    assert "This checksum algorithm must be the same for all parts and it match the checksum " in (
        s3_member_doc("UploadPartRequest", "ChecksumAlgorithm")
    )
    assert "present if the multipart upload request was created with the CRC32 checksum" in (
        s3_member_doc("CompletedPart", "ChecksumCRC32")
    )


def test_a_16_mib_copy_names_crc32_on_create_every_part_and_complete(
    aws: Callable[[str], Any], bucket: str, stem: str
) -> None:
    """Under botocore's default checksum behaviour (1.36+ adds a CRC32 to each part unless told
    otherwise), every request of the upload names the same algorithm, and the completion lists
    each part's CRC32: what was sent, read from botocore's own request hooks, not only what moto
    accepted."""
    s3 = aws_service("s3")
    store = S3RecordingStore(s3, bucket)
    data = bytes(range(256)) * ((16 * MIB + 3) // 256 + 1)
    sent: list[tuple[str, dict[str, str], bytes]] = []

    def capture(request: Any, event_name: str, **_: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else b""
        headers = {name.lower(): _text(value) for name, value in request.headers.items()}
        sent.append((event_name.rsplit(".", 1)[-1], headers, body))

    clients = s3.clients()
    for client in clients:
        client.meta.events.register("before-send.s3", capture, unique_id="capture-checksums")
    try:
        stored = store.put(
            f"{stem}.wav", Body(data), content_type="audio/x-wav", source=SOURCE, deadline=later()
        )
    finally:
        for client in clients:
            client.meta.events.unregister("before-send.s3", unique_id="capture-checksums")

    assert stored.size == len(data)
    operations = [operation for operation, _, _ in sent]
    assert operations == [
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPart",
        "UploadPart",
        "CompleteMultipartUpload",
    ]
    create, *parts, complete = sent
    assert create[1]["x-amz-checksum-algorithm"] == "CRC32"
    for _, headers, _ in parts:
        assert headers["x-amz-sdk-checksum-algorithm"] == "CRC32"
        assert "x-amz-checksum-crc32" in headers or headers.get("x-amz-trailer") == (
            "x-amz-checksum-crc32"
        )
    listed = ElementTree.fromstring(complete[2])
    namespace = {"s3": listed.tag.partition("}")[0].lstrip("{")}
    chunks = [data[:PART_BYTES], data[PART_BYTES : 2 * PART_BYTES], data[2 * PART_BYTES :]]
    assert [
        (
            part.findtext("s3:PartNumber", namespaces=namespace),
            part.findtext("s3:ChecksumCRC32", namespaces=namespace),
        )
        for part in listed.findall("s3:Part", namespace)
    ] == [(str(number), crc32(chunk)) for number, chunk in enumerate(chunks, start=1)]
    assert complete[1]["if-none-match"] == "*"
    got = aws("s3").get_object(Bucket=bucket, Key=f"{stem}.wav", ChecksumMode="ENABLED")
    assert got["Body"].read() == data


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
