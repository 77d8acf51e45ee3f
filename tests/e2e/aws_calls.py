"""Every AWS call the functions make, as their adapters build it: each adapter is run over a
client that keeps the parameters it is given (and answers as AWS would, enough to go on), so that
another botocore can validate exactly those parameters. Which operations the code calls at all is
read from its source (`.call("operation", ...)`), so a new call that is not exercised here fails
the check instead of escaping it."""

from __future__ import annotations

import ast
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
Call = tuple[str, str, dict[str, Any]]
"""(service, boto3 method name, parameters)."""


@dataclass
class KeepingClient:
    """Keeps each call; answers from `answers` (an exception is raised), else `{}`."""

    service: str
    calls: list[Call]
    answers: dict[str, list[Any]] = field(default_factory=dict)

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        def call(**parameters: Any) -> Any:
            self.calls.append((self.service, operation, parameters))
            queued = self.answers.get(operation, [])
            answer = queued.pop(0) if queued else {}
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


def called_operations() -> set[tuple[str, str]]:
    """(module, operation) of every `.call("operation", ...)` in functions/."""
    found = set()
    for path in sorted((ROOT / "functions").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "call"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add((path.stem, node.args[0].value))
    return found


def _precondition_failed() -> ClientError:
    return ClientError(
        {"Error": {"Code": "PreconditionFailed"}, "ResponseMetadata": {"HTTPStatusCode": 412}},
        "PutObject",
    )


def every_call() -> list[Call]:
    """Run each adapter through each of its paths; the calls it made."""
    from functions.adapters.archive import S3BodyArchive
    from functions.adapters.aws import AwsService
    from functions.adapters.dynamodb import DynamoReportStore
    from functions.adapters.event_bus import EventBridgePublisher
    from functions.adapters.queue import SqsRecordingQueue
    from functions.adapters.raw_bodies import S3RawBodies
    from functions.adapters.recording_entries import DynamoRecordingEntries
    from functions.adapters.recording_store import S3RecordingStore, source_digest
    from functions.adapters.secrets import CachedSecret, SecretsManagerValues
    from functions.adapters.unstored_bodies import S3UnstoredBodies
    from functions.adapters.visibility import SqsMessageVisibility
    from functions.events.mapping import BusEvent
    from functions.postback.body import read_postback
    from functions.recordings.jobs import RecordingJob
    from functions.recordings.ports import StoredRecording
    from functions.reports.items import Table
    from functions.reports.links import ReportLinks

    calls: list[Call] = []
    deadline = time.monotonic() + 60
    source = "https://www.callfire.com/cloud/1/files/recording/1"
    dynamodb = KeepingClient("dynamodb", calls)
    s3 = KeepingClient(
        "s3",
        calls,
        {
            "create_multipart_upload": [{"UploadId": "upload"}],
            "upload_part": [{"ETag": f'"e{n}"', "ChecksumCRC32": "AAAAAA=="} for n in range(3)],
            "put_object": [{}, {}, _precondition_failed()],
            "head_object": [
                {"Metadata": {"source-sha256": source_digest(source)}, "ContentLength": 3}
            ],
            "get_object": [{"Body": io.BytesIO(b"<call-finished/>")}],
        },
    )
    sqs = KeepingClient("sqs", calls, {"send_message_batch": [{"Successful": []}]})
    secrets = KeepingClient("secretsmanager", calls, {"get_secret_value": [{"SecretString": "t"}]})
    events = KeepingClient("events", calls, {"put_events": [{"Entries": [{"EventId": "e"}]}]})

    def service(client: KeepingClient) -> AwsService:
        return AwsService(client.service, lambda _: client)

    tables = {Table.CALLS: "calls", Table.CAMPAIGNS: "campaigns"}
    bodies = S3RawBodies(service(s3), "bucket")
    store = DynamoReportStore(service(dynamodb), tables, bodies)
    sample = (ROOT / "tests" / "events" / "call_finished.xml").read_bytes()
    now = datetime.now(UTC)
    _, small = read_postback(sample, None, now, 8 * 1024 * 1024)
    large_body = sample.replace(b"<notes>", b"<notes>" + b"n" * 100_000, 1)
    _, large = read_postback(large_body, None, now, 8 * 1024 * 1024)
    assert large.body_in_bucket is not None
    store.insert(small, deadline=deadline)
    store.insert(large, deadline=deadline)
    store.count_delivery(small, deadline=deadline)
    bodies.text(large.attributes["rawS3Key"], deadline=deadline)
    S3BodyArchive(service(s3), "bucket").keep(
        "unstored/",
        sample,
        request_id="r",
        received_at=now,
        content_encoding="gzip",
        reason="ReadTimeoutError",
        detail="d",
        deadline=deadline,
    )
    job = RecordingJob("111111", "call", "22222", 0, source)
    SqsRecordingQueue(service(sqs), "https://sqs/q").enqueue([job], deadline=deadline)
    SqsMessageVisibility(service(sqs), "https://sqs/q").hide("receipt", 60, deadline=deadline)
    SecretsManagerValues(service(secrets)).secret_string("arn:secret", deadline=deadline)
    recordings = S3RecordingStore(service(s3), "bucket", part_bytes=5 * 1024 * 1024)
    recordings.put(
        "recordings/k.wav",
        io.BytesIO(b"x" * (11 * 1024 * 1024)),
        content_type="audio/x-wav",
        source=source,
        deadline=deadline,
    )
    recordings.put(
        "recordings/s.wav", io.BytesIO(b"RIFF"), content_type="a", source=source, deadline=deadline
    )
    recordings._abort("recordings/k.wav", "upload", deadline)
    entries = DynamoRecordingEntries(service(dynamodb), "calls")
    entries.entry(job, deadline=deadline)
    entries.mark_copied(
        job, StoredRecording("recordings/k.wav", "audio/x-wav", 3), deadline=deadline
    )
    entries.mark_failed(job, "HTTP 404", deadline=deadline)
    EventBridgePublisher(service(events), "arn:aws:events:us-east-1:1:event-bus/b", "s").publish(
        [BusEvent("Call Finished", '{"callId":"1"}', ("arn:aws:dynamodb:::table/T",), now)],
        deadline=deadline,
    )
    _webhook_calls(service(dynamodb), service(s3), service(KeepingClient("sns", calls)), now)
    index_s3 = KeepingClient("s3", calls)
    salt = KeepingClient("secretsmanager", calls, {"get_secret_value": [{"SecretString": "s"}]})
    S3BodyArchive(service(index_s3), "bucket", salt=CachedSecret(service(salt), "arn:salt")).keep(
        "rejected/",
        sample,
        request_id="r",
        received_at=now,
        content_encoding=None,
        reason="conflicting_duplicate",
        detail="d",
        deadline=deadline,
        links=ReportLinks(("2132212289",), "111111", "22222"),
    )
    listed = KeepingClient(
        "s3",
        calls,
        {
            "list_objects_v2": [
                {
                    "Contents": [{"Key": "unstored/2026/11/28/r.xml", "LastModified": now}],
                    "IsTruncated": True,
                    "NextContinuationToken": "next",
                },
                {"Contents": []},
            ],
            "get_object_tagging": [{"TagSet": []}],
        },
    )
    unstored = S3UnstoredBodies(service(listed), "bucket")
    for body in unstored.listing(deadline=deadline):
        unstored.replayed(body.key, deadline=deadline)
    return calls


def _webhook_calls(dynamodb: Any, s3: Any, sns: Any, now: datetime) -> None:
    """What the webhooks function adds: a merge (read the item, write what changed on condition),
    an event of another resource type kept once, a low balance told."""
    from functions.adapters.archive import S3BodyArchive
    from functions.adapters.dynamodb import DynamoReportStore
    from functions.adapters.notifier import SnsAlarmNotifier
    from functions.adapters.raw_bodies import S3RawBodies
    from functions.postback.delivery import read_webhook
    from functions.reports.items import Table, to_item

    deadline = time.monotonic() + 60
    tables = {Table.CALLS: "calls", Table.CAMPAIGNS: "campaigns"}
    store = DynamoReportStore(dynamodb, tables, S3RawBodies(s3, "bucket"))
    sample = (ROOT / "tests" / "events" / "v2" / "outbound_call_finished.json").read_bytes()
    (event, *_) = read_webhook(sample, None, 1024 * 1024).events
    item = to_item(event.content, raw=event.raw, received_at="2026-01-01T00:00:00.000Z")
    store.current(item, deadline=deadline)
    stored = {**item.attributes, "version": 2, "recordings": []}
    store.replace(item, stored, {**item.attributes, "version": 3}, deadline=deadline)
    S3BodyArchive(s3, "bucket").keep_event(
        "events/LowBalance/2026/01/01/1-2-0.json", "{}", received_at=now, deadline=deadline
    )
    SnsAlarmNotifier(sns, "arn:aws:sns:us-east-1:123456789012:alarms").notify(
        "CallFire: low balance", "m", deadline=deadline
    )
