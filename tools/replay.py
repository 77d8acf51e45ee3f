"""Replay: bring archived bodies into the tables, re-map stored items after a parser upgrade, and
re-queue recordings that were never copied. Every command is idempotent: running it twice changes
nothing the second time.

    python -m tools.replay archived unstored --since 2026-11-01 [--until 2026-11-28]
    python -m tools.replay archived rejected --since 2026-11-01     (after a parser fix)
    (legacy bodies `<requestId>.xml`, v2 webhook deliveries `<requestId>.json`)
    python -m tools.replay remap [--since 2026-11-01] [--until 2026-11-28]
    python -m tools.replay recordings [--include-failed]
    python -m tools.replay redrive                                  (dead-lettered messages)
    python -m tools.replay events                 (what the events dead-letter queue names)
    python -m tools.replay expiry        (after turning reportRetentionDays on)

Add --dry-run to see what would happen. The target is chosen as for the query tool: the local
system while `.local/endpoints.json` exists, else the deployed stack (--aws / --local to choose).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.archive import (
    CONTENT_ENCODING_METADATA,
    RECEIVED_AT_METADATA,
    S3BodyArchive,
)
from functions.adapters.dynamodb import DynamoReportStore, serialize
from functions.adapters.event_bus import EventBridgePublisher
from functions.adapters.queue import SqsRecordingQueue
from functions.events.mapping import EventRules
from functions.events.service import EventsService, PoisonRecord
from functions.failures import Unavailable
from functions.names import (
    DEFAULT_EVENTS_RETRY_SECONDS,
    DEFAULT_MAX_BODY_BYTES,
    ArchiveTag,
    CallAttribute,
    CallsTable,
    CampaignAttribute,
    CampaignsTable,
    Env,
    Item,
    Prefix,
    RecordingEntry,
    RecordingStatus,
)
from functions.postback.body import iso_utc, read_postback
from functions.postback.delivery import JSON, DeliveryStore, EventResult, read_webhook
from functions.postback.store_once import Stored, store_once
from functions.recordings.jobs import RecordingJob, jobs_for
from functions.reports import (
    CallReport,
    CampaignReport,
    RejectReason,
    ReportRejected,
    read_report,
)
from functions.reports.items import ReportItem, Table, body_sha256, fit_item, to_item
from functions.reports.retention import Retention
from functions.reports.versions import is_v2, with_legacy_campaign
from functions.reports.webhook_json import read_event
from tools.cli import check_period, command, commands, day, default
from tools.progress import Progress
from tools.streams import read_range
from tools.target import (
    CALL_SECONDS,
    Target,
    TargetError,
    add_target_arguments,
    chosen_target,
    dead_letter_queues,
    items,
    soon,
)

GZIP_MAGIC = b"\x1f\x8b"


def _days(since: date, until: date) -> Iterator[date]:
    day = since
    while day <= until:
        yield day
        day += timedelta(days=1)


def archived_keys(s3: Any, bucket: str, prefix: str, since: date, until: date) -> list[str]:
    keys = []
    for each_day in _days(since, until):
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{prefix}{each_day:%Y/%m/%d}/"
        )
        keys += [entry["Key"] for page in pages for entry in page.get("Contents", [])]
    return keys


def _received_at(metadata: dict[str, str], last_modified: datetime) -> datetime:
    try:
        return datetime.fromisoformat(metadata[RECEIVED_AT_METADATA])
    except (KeyError, ValueError):
        return last_modified.astimezone(UTC)


def replay_archived(
    target: Target,
    prefix: str,
    since: date,
    until: date,
    *,
    dry_run: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    progress: Callable[[str, int], Progress] = Progress,
) -> Counter[str]:
    """Read each archived body again and store it once, as the postback function would have.
    Each body replayed is tagged `replayed` with what came of it, and a tagged body is not
    replayed again: a second run changes nothing, and a report already stored counts one
    delivery for its archived body, not one per run."""
    if target.bucket is None:
        raise TargetError("the target names no bucket")
    s3 = target.client("s3")
    store = _store(target)
    peek = PeekingReportStore(target.client("dynamodb"), store)
    replayer = _Replayer(
        target, store if not dry_run else peek, target.bucket, max_body_bytes, dry_run
    )
    keys = archived_keys(s3, target.bucket, prefix, since, until)
    bar = progress(f"replay {prefix}", len(keys))
    for key in keys:
        if _replayed_before(s3, target.bucket, key):
            bar.step("replayed before")
            continue
        archived = s3.get_object(Bucket=target.bucket, Key=key)
        body = archived["Body"].read()
        metadata = archived.get("Metadata", {})
        encoding = metadata.get(CONTENT_ENCODING_METADATA) or (
            "gzip" if body.startswith(GZIP_MAGIC) else None
        )
        received_at = _received_at(metadata, archived["LastModified"])
        replay = replayer.delivery if key.endswith(f".{JSON}") else replayer.postback
        try:
            replayed = replay(_Archived(body, encoding, received_at))
        except ReportRejected as refusal:
            bar.step(f"still refused ({refusal.reason.value})")
            continue
        if dry_run:
            bar.step(_WOULD.get(replayed, f"would be {replayed}"))
            continue
        s3.put_object_tagging(
            Bucket=target.bucket,
            Key=key,
            Tagging={"TagSet": [{"Key": ArchiveTag.REPLAYED, "Value": replayed}]},
        )
        bar.step(_REPLAYED.get(replayed, replayed))
    return bar.finish()


_REPLAYED = {
    Stored.NEW: "stored",
    Stored.UPDATED: "updated (newer version, or joined its campaign)",
    Stored.DUPLICATE: "already stored (delivery counted)",
    Stored.CONFLICT: "conflict (stored item kept)",
    "mixed": "webhook delivery (events with several outcomes)",
}
_WOULD = {
    Stored.NEW: "would store",
    Stored.UPDATED: "would update (newer version, or join its campaign)",
    Stored.DUPLICATE: "would count a delivery (already stored)",
    Stored.CONFLICT: "would be a conflict (stored item kept)",
    "mixed": "would store a webhook delivery (events with several outcomes)",
}


class PeekingReportStore:
    """The report store for a dry run: it reads where the real one writes, so that the store-once
    rule decides exactly what a real run would decide, and nothing changes."""

    def __init__(self, client: Any, store: DynamoReportStore) -> None:
        self._client = client
        self._store = store
        self._table_names = store.table_names

    def insert(self, item: ReportItem, *, deadline: float) -> str | None:  # noqa: ARG002 - the port's signature
        stored = self._client.get_item(
            TableName=self._table_names[item.table],
            Key=serialize(item.key),
            ProjectionExpression="#raw, #rawS3Key",
            ExpressionAttributeNames={"#raw": Item.RAW, "#rawS3Key": Item.RAW_S3_KEY},
            ConsistentRead=True,
        ).get("Item")
        if stored is None:
            return None
        return body_sha256({name: value.get("S", "") for name, value in stored.items()})

    def count_delivery(self, item: ReportItem, *, deadline: float) -> None:  # noqa: ARG002 - the port's signature
        return None

    def current(self, item: ReportItem, *, deadline: float) -> Mapping[str, Any] | None:
        return self._store.current(item, deadline=deadline)

    def replace(
        self,
        item: ReportItem,  # noqa: ARG002
        stored: Mapping[str, Any],  # noqa: ARG002
        attributes: Mapping[str, Any],  # noqa: ARG002
        *,
        deadline: float,  # noqa: ARG002
    ) -> bool:
        """A real run would write here (or find the item changed and decide again)."""
        return True


class PeekingEvents:
    """The events archive for a dry run: an event is new when no object has its key yet."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def keep_event(
        self,
        key: str,
        event: str,  # noqa: ARG002 - the port's signature
        *,
        received_at: datetime,  # noqa: ARG002
        deadline: float,  # noqa: ARG002
    ) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError:
            return True
        return False


@dataclass(frozen=True)
class _Archived:
    body: bytes
    encoding: str | None
    received_at: datetime


@dataclass(frozen=True)
class _Replayer:
    """Stores archived bodies through the store-once rule; in a dry run, through the peeking
    store, which decides the same and writes nothing (no recording is queued either)."""

    target: Target
    store: DynamoReportStore | PeekingReportStore
    bucket: str
    max_body_bytes: int
    dry_run: bool

    def postback(self, archived: _Archived) -> str:
        """What came of a legacy postback body (`new`, `updated`, `duplicate`, `conflict`)."""
        report, item = read_postback(
            archived.body, archived.encoding, archived.received_at, self.max_body_bytes
        )
        stored = store_once(self.store, item, deadline=soon())
        if stored is Stored.NEW and isinstance(report, CallReport) and not self.dry_run:
            _enqueue(self.target, jobs_for(report))
        return stored.value

    def delivery(self, archived: _Archived) -> str:
        """What came of a v2 webhook delivery: its events' one outcome, else `mixed`. Events of
        other resource types are kept in `events/` as on arrival (a LowBalance event is not told
        again). A delivery whose every event is refused stays untagged, for after a reader fix."""
        delivery = read_webhook(archived.body, archived.encoding, self.max_body_bytes)
        s3 = self.target.client("s3")
        events = (
            PeekingEvents(s3, self.bucket)
            if self.dry_run
            else S3BodyArchive(self.target.service("s3"), self.bucket)
        )
        stores = DeliveryStore(self.store, events)
        results: set[str] = set()
        for event in delivery.events:
            outcome = stores.store_event(event, received_at=archived.received_at, deadline=soon())
            if (
                outcome.result in (EventResult.STORED, EventResult.UPDATED)
                and isinstance(outcome.report, CallReport)
                and not self.dry_run
            ):
                _enqueue(self.target, jobs_for(outcome.report))
            results.add(_TAGS.get(outcome.result, outcome.result.value))
        if results == {EventResult.REFUSED.value}:
            raise ReportRejected(RejectReason.UNKNOWN_REPORT, "every event is refused")
        return results.pop() if len(results) == 1 else "mixed"


_TAGS = {EventResult.STORED: Stored.NEW.value}
"""A replayed event stored anew is tagged as a replayed postback is: `new`."""


def _replayed_before(s3: Any, bucket: str, key: str) -> bool:
    tags = s3.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])
    return any(tag["Key"] == ArchiveTag.REPLAYED for tag in tags)


def _store(target: Target) -> DynamoReportStore:
    """The postback function's own store, with the stack's retention: a replayed item expires as
    it would have, counted from when its body arrived."""
    return DynamoReportStore(
        target.service("dynamodb"),
        {Table.CALLS: target.calls_table, Table.CAMPAIGNS: target.campaigns_table},
        target.raw_bodies(),
        Retention(target.report_retention_days),
    )


def _enqueue(target: Target, jobs: Sequence[RecordingJob]) -> None:
    if jobs and target.recordings_queue:
        SqsRecordingQueue(target.service("sqs"), target.recordings_queue).enqueue(
            jobs, deadline=soon()
        )


def _item_count(dynamodb: Any, table: str) -> int:
    return int(dynamodb.describe_table(TableName=table)["Table"].get("ItemCount", 0))


def remapped(old: dict[str, Any], raw: str, postback_raw: str | None = None) -> ReportItem | None:
    """The item that the current readers make of `old`'s body `raw` (on the item or in the
    bucket; and, on a campaign both generations reported, of its legacy body `postback_raw`),
    keeping what happened to it since (deliveries, versions, the campaign's events, recording
    copies) and when it expires; None when the key itself would change."""
    item = _read_again(raw, old[Item.RECEIVED_AT], v2=is_v2(old))
    new = item.attributes
    if any(value != old.get(name) for name, value in item.key.items()):
        return None
    new[Item.DELIVERIES] = old.get(Item.DELIVERIES, 1)
    for name in (Item.VERSION, Item.UPDATED_AT, Item.EXPIRES_AT):
        if name in old:
            new[name] = old[name]
    if CampaignAttribute.EVENTS in old:
        new[CampaignAttribute.EVENTS] = {
            **old[CampaignAttribute.EVENTS],
            **new.get(CampaignAttribute.EVENTS, {}),
        }
    if postback_raw is not None:
        legacy = _read_again(postback_raw, old[Item.RECEIVED_AT], v2=False)
        new = with_legacy_campaign(new, legacy.attributes)
    if CallAttribute.RECORDINGS in new:
        before = old.get(CallAttribute.RECORDINGS, [])
        new[CallAttribute.RECORDINGS] = [
            before[index]
            if index < len(before)
            and before[index].get(RecordingEntry.URL) == entry[RecordingEntry.URL]
            else entry
            for index, entry in enumerate(new[CallAttribute.RECORDINGS])
        ]
    return ReportItem(item.table, item.key, new, body_in_bucket=item.body_in_bucket)


def _read_again(raw: str, received_at: str, *, v2: bool) -> ReportItem:
    """The item the current readers make of `raw`, as it is stored (body in the bucket when too
    large). Raises ReportRejected when they cannot read it as a report."""
    if not v2:
        report, _ = read_report(raw)
        return fit_item(to_item(report, raw=raw, received_at=received_at))
    content = read_event(raw)
    if not isinstance(content, CallReport | CampaignReport):
        raise ReportRejected(RejectReason.UNKNOWN_REPORT, "the event is no longer a report")
    return fit_item(to_item(content, raw=raw, received_at=received_at))


def _postback_raw(target: Target, old: dict[str, Any]) -> str | None:
    """The legacy body a v2 campaign item keeps beside its own, if any."""
    if CampaignAttribute.POSTBACK_RAW in old:
        return str(old[CampaignAttribute.POSTBACK_RAW])
    key = old.get(CampaignAttribute.POSTBACK_RAW_S3_KEY)
    if isinstance(key, str):
        return target.raw_bodies().text(key, deadline=soon())
    return None


def remap(
    target: Target,
    since: str = "",
    until: str = "9999",
    *,
    dry_run: bool = False,
    progress: Callable[[str, int], Progress] = Progress,
) -> Counter[str]:
    """Re-read every stored item's `raw` with the current parser and rewrite what changed."""
    dynamodb = target.client("dynamodb")
    tallies: Counter[str] = Counter()
    for table in (target.calls_table, target.campaigns_table):
        bar = progress(f"remap {table}", _item_count(dynamodb, table))
        for old in items(dynamodb, "scan", TableName=table):
            if Item.RECEIVED_AT not in old or not ({Item.RAW, Item.RAW_S3_KEY} & set(old)):
                bar.step("not a stored report (left alone)")
                continue
            received = str(old[Item.RECEIVED_AT])
            if not since <= received <= until:
                bar.step("outside the dates")
                continue
            try:
                new = remapped(old, target.with_body(old)[Item.RAW], _postback_raw(target, old))
            except ReportRejected:
                bar.step("unreadable now (left alone)")
                continue
            if new is None:
                bar.step("key would change (left alone)")
            elif new.attributes == old:
                bar.step("unchanged")
            elif dry_run:
                bar.step("would update")
            else:
                bar.step(_rewrite(target, table, old, next_version(new, now())))
        tallies += bar.finish()
    return tallies


def next_version(item: ReportItem, updated_at: datetime) -> ReportItem:
    """A remapped item is a new version of its report: consumers of the events get the corrected
    fact again, with a new `eventId` (docs/events.md)."""
    item.attributes[Item.VERSION] = int(item.attributes.get(Item.VERSION, 1)) + 1
    item.attributes[Item.UPDATED_AT] = iso_utc(updated_at)
    return item


def now() -> datetime:
    return datetime.now(UTC)


def _rewrite(target: Target, table: str, old: dict[str, Any], new: ReportItem) -> str:
    """Replace `old` by `new` unless it changed meanwhile (its body or its deliveries); a body
    `new` keeps in the bucket goes there first."""
    if new.body_in_bucket is not None:
        target.raw_bodies().put(
            new.attributes[Item.RAW_S3_KEY], new.body_in_bucket, deadline=soon()
        )
    body = Item.RAW if Item.RAW in old else Item.RAW_S3_KEY
    try:
        target.client("dynamodb").put_item(
            TableName=table,
            Item=serialize(new.attributes),
            ConditionExpression="#body = :body AND #deliveries = :deliveries",
            ExpressionAttributeNames={"#body": body, "#deliveries": Item.DELIVERIES},
            ExpressionAttributeValues=serialize(
                {":body": old[body], ":deliveries": old.get(Item.DELIVERIES, 1)}
            ),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return "changed meanwhile (left alone)"
        raise
    return "updated"


def apply_retention(
    target: Target,
    *,
    dry_run: bool = False,
    progress: Callable[[str, int], Progress] = Progress,
) -> Counter[str]:
    """Give every item written before the stack's retention was set the `expiresAt` it would
    have been written with (counted from its arrival, so old items go soon after); an item that
    already has one keeps it."""
    retention = Retention(target.report_retention_days)
    if retention.days <= 0:
        raise TargetError("the stack keeps items for ever (reportRetentionDays is 0)")
    dynamodb = target.client("dynamodb")
    tallies: Counter[str] = Counter()
    for table, key_names in (
        (target.calls_table, (CallsTable.PARTITION_KEY, CallsTable.SORT_KEY)),
        (target.campaigns_table, (CampaignsTable.PARTITION_KEY,)),
    ):
        bar = progress(f"expiry {table}", _item_count(dynamodb, table))
        names = {f"#k{n}": name for n, name in enumerate(key_names)}
        stored = items(
            dynamodb,
            "scan",
            TableName=table,
            ProjectionExpression=", ".join([*names, "#received", "#expires"]),
            ExpressionAttributeNames={
                **names,
                "#received": Item.RECEIVED_AT,
                "#expires": Item.EXPIRES_AT,
            },
        )
        for item in stored:
            if Item.EXPIRES_AT in item:
                bar.step("expiring already")
                continue
            expiry = retention.expires_at(item.get(Item.RECEIVED_AT))
            if dry_run:
                bar.step("would expire")
                continue
            key = {name: item[name] for name in key_names}
            bar.step(_set_expiry(dynamodb, table, key, expiry))
        tallies += bar.finish()
    return tallies


def _set_expiry(dynamodb: Any, table: str, key: dict[str, Any], expiry: int | None) -> str:
    try:
        dynamodb.update_item(
            TableName=table,
            Key=serialize(key),
            UpdateExpression="SET #expires = :expiry",
            ConditionExpression="attribute_exists(#key) AND attribute_not_exists(#expires)",
            ExpressionAttributeNames={"#expires": Item.EXPIRES_AT, "#key": next(iter(key))},
            ExpressionAttributeValues={":expiry": {"N": str(expiry)}},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return "changed meanwhile (left alone)"
        raise
    return "expiry set"


def requeue_recordings(
    target: Target,
    *,
    include_failed: bool = False,
    dry_run: bool = False,
    progress: Callable[[str, int], Progress] = Progress,
) -> Counter[str]:
    """Queue a copy job for every recording still PENDING (and FAILED, if asked)."""
    dynamodb = target.client("dynamodb")
    wanted = {RecordingStatus.PENDING} | ({RecordingStatus.FAILED} if include_failed else set())
    bar = progress("recordings", _item_count(dynamodb, target.calls_table))
    for item in items(dynamodb, "scan", TableName=target.calls_table):
        jobs = [
            RecordingJob(
                item[CallsTable.PARTITION_KEY],
                item[CallsTable.SORT_KEY],
                item.get(CallAttribute.CAMPAIGN_ID),
                index,
                recording[RecordingEntry.URL],
            )
            for index, recording in enumerate(item.get(CallAttribute.RECORDINGS, []))
            if recording.get(RecordingEntry.STATUS) in wanted
        ]
        if not jobs:
            bar.step("nothing to copy")
            continue
        if not dry_run:
            _enqueue(target, jobs)
        bar.step("would queue" if dry_run else "queued")
    return bar.finish()


REDRIVE_BATCH = 10
"""SQS receives, sends and deletes at most 10 messages a call."""
REDRIVE_VISIBILITY_SECONDS = 120
"""A message received but not sent on (an interrupted run) is back in the dead-letter queue
after this long."""


def redrive(
    target: Target,
    *,
    dry_run: bool = False,
    progress: Callable[[str, int], Progress] = Progress,
) -> Counter[str]:
    """Move every message of each dead-letter queue back to the queue it came from (the one
    whose redrive policy names it), to be tried again once the cause is fixed. A dead-letter
    queue without exactly one such queue is left alone."""
    sqs = target.client("sqs")
    tallies: Counter[str] = Counter()
    for name, url in dead_letter_queues(target).items():
        sources = sqs.list_dead_letter_source_queues(QueueUrl=url).get("queueUrls", [])
        waiting = _messages_in(sqs, url)
        bar = progress(f"redrive {name}", waiting)
        if len(sources) != 1:
            for _ in range(waiting):
                bar.step("no single source queue (left alone)")
        elif dry_run:
            for _ in range(waiting):
                bar.step("would move back")
        else:
            _move_back(sqs, url, sources[0], bar)
        tallies += bar.finish()
    return tallies


def _messages_in(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0))


def _move_back(sqs: Any, dead_letters: str, source: str, bar: Progress) -> None:
    while True:
        messages = sqs.receive_message(
            QueueUrl=dead_letters,
            MaxNumberOfMessages=REDRIVE_BATCH,
            VisibilityTimeout=REDRIVE_VISIBILITY_SECONDS,
            WaitTimeSeconds=1,  # long polling asks every server: short polling may miss some
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return
        entries = [
            {
                "Id": str(index),
                "MessageBody": message["Body"],
                **(
                    {"MessageAttributes": message["MessageAttributes"]}
                    if message.get("MessageAttributes")
                    else {}
                ),
            }
            for index, message in enumerate(messages)
        ]
        sent = sqs.send_message_batch(QueueUrl=source, Entries=entries)
        moved = {entry["Id"] for entry in sent.get("Successful", [])}
        if moved:
            sqs.delete_message_batch(
                QueueUrl=dead_letters,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(messages)
                    if str(index) in moved
                ],
            )
        for index in range(len(messages)):
            bar.step("moved back" if str(index) in moved else "not moved (stays)")
        if len(moved) < len(messages):
            return


def replay_events(
    target: Target,
    *,
    dry_run: bool = False,
    retry_seconds: float = DEFAULT_EVENTS_RETRY_SECONDS,
    progress: Callable[[str, int], Progress] = Progress,
) -> Counter[str]:
    """Publish again the stream records that the events dead-letter queue names, through the
    events function's own code, and remove each message whose records are all published. A
    message is left in the queue when its records are gone from the stream (after 24 hours:
    the items are still in the tables) or still cannot be published."""
    if not target.events_dead_letter_queue:
        raise TargetError("the target names no events dead-letter queue")
    sqs = target.client("sqs")
    messages = _all_messages(sqs, target.events_dead_letter_queue)
    streams = target.client("dynamodbstreams")
    bar = progress("events", len(messages))
    for message in messages:
        failure = json.loads(message["Body"])
        batch = failure["DDBStreamBatchInfo"]
        try:
            records = list(
                read_range(
                    streams,
                    batch["streamArn"],
                    batch["shardId"],
                    batch["startSequenceNumber"],
                    batch["endSequenceNumber"],
                )
            )
        except ClientError as error:
            bar.step(f"no longer in the stream ({error.response['Error']['Code']}; left)")
            continue
        if dry_run:
            bar.step("would publish")
            continue
        service = _events_service(target, failure)
        until = time.monotonic() + retry_seconds
        try:
            outcome = service.handle(records, retry_until=until, deadline=until + CALL_SECONDS)
        except PoisonRecord as poison:
            bar.step(f"cannot be published ({poison}; left)")
            continue
        if outcome.failed_from is not None:
            bar.step("still not published (left)")
            continue
        sqs.delete_message(
            QueueUrl=target.events_dead_letter_queue, ReceiptHandle=message["ReceiptHandle"]
        )
        bar.step("published")
    return bar.finish()


def _all_messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message of the queue, each hidden for 15 minutes while it is worked on."""
    messages: list[dict[str, Any]] = []
    while page := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=900
    ).get("Messages", []):
        messages += page
    return messages


def _events_service(target: Target, failure: dict[str, Any]) -> EventsService:
    """The events function's service, publishing where the function does: for the local
    system, the bus it names; for AWS, the bus and source of the function's configuration."""
    bus, source = target.event_bus, target.event_source
    if bus is None or source is None:
        function_arn = failure["requestContext"]["functionArn"]
        configuration = target.client("lambda").get_function_configuration(
            FunctionName=function_arn
        )
        environment = configuration.get("Environment", {}).get("Variables", {})
        bus, source = environment[Env.EVENT_BUS], environment[Env.EVENT_SOURCE]
    if target.bucket is None:
        raise TargetError("the target names no bucket")
    rules = EventRules(
        tables={target.calls_table: Table.CALLS, target.campaigns_table: Table.CAMPAIGNS},
        bucket=target.bucket,
        source=source,
    )
    return EventsService(EventBridgePublisher(target.service("events"), bus, source), rules)


def _add_options(parser: argparse.ArgumentParser, top: bool) -> None:
    add_target_arguments(parser, top)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        default=default(False, top),
        help="change nothing; say what a real run would do",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m tools.replay",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = commands(top, _add_options)
    archived = command(subparsers, "archived", "store archived bodies", _add_options)
    archived.add_argument("prefix", choices=["unstored", "rejected"])
    archived.add_argument("--since", type=day, required=True, metavar="YYYY-MM-DD")
    archived.add_argument("--until", type=day, default=None, metavar="YYYY-MM-DD")
    archived.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    mapping = command(
        subparsers, "remap", "re-read stored items with the current parser", _add_options
    )
    mapping.add_argument(
        "--since", type=day, default=None, metavar="YYYY-MM-DD", help="by receivedAt"
    )
    mapping.add_argument("--until", type=day, default=None, metavar="YYYY-MM-DD")
    recordings = command(subparsers, "recordings", "queue recordings not yet copied", _add_options)
    recordings.add_argument("--include-failed", action="store_true")
    command(
        subparsers,
        "redrive",
        "move dead-lettered messages back to their queue, to be tried again",
        _add_options,
    )
    command(
        subparsers,
        "events",
        "publish again what the events dead-letter queue names (within 24 h)",
        _add_options,
    )
    command(
        subparsers,
        "expiry",
        "give items written before reportRetentionDays was set their expiresAt",
        _add_options,
    )
    return top


def main(argv: list[str] | None = None) -> int:
    arguments = parser()
    options = arguments.parse_args(argv)
    if options.command in ("archived", "remap"):
        check_period(arguments, options.since, options.until)
    try:
        target = chosen_target(options)
        print(f"target: {target.description}", file=sys.stderr)
        tally = _run(options, target)
    except (TargetError, ClientError, BotoCoreError, Unavailable) as error:
        print(f"replay failed: {error}", file=sys.stderr)
        return 2
    print(", ".join(f"{name}: {count}" for name, count in sorted(tally.items())) or "nothing found")
    return 0


def _run(options: argparse.Namespace, target: Target) -> Counter[str]:
    if options.command == "archived":
        prefix = Prefix.UNSTORED if options.prefix == "unstored" else Prefix.REJECTED
        until = options.until or datetime.now(UTC).date()
        return replay_archived(
            target,
            prefix,
            options.since,
            until,
            dry_run=options.dry_run,
            max_body_bytes=options.max_body_bytes,
        )
    if options.command == "expiry":
        return apply_retention(target, dry_run=options.dry_run)
    if options.command == "remap":
        since = options.since.isoformat() if options.since else ""
        until = options.until.isoformat() + "\uffff" if options.until else "\uffff"
        return remap(target, since, until, dry_run=options.dry_run)
    if options.command == "redrive":
        return redrive(target, dry_run=options.dry_run)
    if options.command == "events":
        return replay_events(target, dry_run=options.dry_run)
    return requeue_recordings(
        target, include_failed=options.include_failed, dry_run=options.dry_run
    )


if __name__ == "__main__":
    sys.exit(main())
