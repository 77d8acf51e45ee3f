"""The local DynamoDB stream event source: what Lambda's event source mapping does with a table's
stream, read from the template's mapping and run against moto's DynamoDB Streams.

Each poll reads the shard from where it stopped, keeps the records the mapping's filters match,
and hands them to the function as Lambda would (`{"Records": [...]}`, images in DynamoDB JSON,
`ApproximateCreationDateTime` in epoch seconds, `eventSourceARN`). Then, like Lambda:

- a batch that succeeds moves the shard on;
- a partial batch response names the first failed record: the rest is retried from there;
- a function error splits the batch in two when `BisectBatchOnFunctionError` is on ("the batch
  is bisected ... Lambda retries only the remaining records", Lambda Developer Guide,
  "Configuring partial batch response with DynamoDB and Lambda"); splitting costs no retry;
- after `MaximumRetryAttempts` retries, or for records older than `MaximumRecordAgeInSeconds`,
  the batch's position goes to the on-failure destination in Lambda's format
  (`DDBStreamBatchInfo`: shard, first and last sequence numbers; "Retain discarded records for a
  DynamoDB event source", Lambda Developer Guide) and the shard moves on.

moto answers DynamoDB Streams only with account-id endpoints disabled
(`tools.target.STREAMS_CONFIG`).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.resources import ACCOUNT_ID, StreamSource
from tools.streams import lambda_record

MAX_GET_RECORDS = 1000


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Lambda's event filtering for the patterns the template uses: each key must match, a list
    holds the values allowed, a map descends into the record. Any other rule is refused rather
    than misread."""
    for name, expected in pattern.items():
        value = record.get(name) if isinstance(record, Mapping) else None
        if isinstance(expected, Mapping):
            if not isinstance(value, Mapping) or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if any(isinstance(allowed, Mapping) for allowed in expected):
                raise NotImplementedError(f"filter rule {expected} is not supported locally")
            if value not in expected:
                return False
        else:
            raise NotImplementedError(f"filter {pattern} is not supported locally")
    return True


def failure_record(
    source: StreamSource,
    shard_id: str,
    batch: list[dict[str, Any]],
    *,
    condition: str,
    invocations: int,
    function_arn: str,
    function_error: str | None,
) -> dict[str, Any]:
    """What Lambda sends to a DynamoDB stream mapping's SQS on-failure destination."""

    def arrival(record: dict[str, Any]) -> str:
        seconds = float(record["dynamodb"].get("ApproximateCreationDateTime", 0))
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")

    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invocations,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            **({"functionError": function_error} if function_error else {}),
        },
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(batch[0]),
            "approximateArrivalOfLastRecord": arrival(batch[-1]),
            "batchSize": len(batch),
            "streamArn": source.stream_arn,
        },
    }


class StreamConsumer:
    def __init__(
        self,
        source: StreamSource,
        streams: Any,
        sqs: Any,
        invoke: Callable[[str, dict[str, Any]], Any],
        region: str,
        *,
        poll_seconds: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self._streams = streams
        self._sqs = sqs
        self._invoke = invoke
        self._function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{source.function_id}"
        self._poll_seconds = poll_seconds
        self._clock = clock
        self._iterators: dict[str, str | None] = {}
        self._stopping = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._thread = threading.Thread(target=self._run, daemon=True, name="stream-consumer")
        self.invocations = 0
        self.dead_lettered = 0
        self.errors: list[str] = []

    def start(self) -> StreamConsumer:
        self.open()
        self._thread.start()
        return self

    def hold(self) -> None:
        """Stops polling after the current batch (the records wait in the stream, as they do
        while Lambda is throttled) until `release`."""
        self._running.clear()

    def release(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stopping.set()
        self._running.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._poll_seconds + 30)

    def open(self) -> None:
        """Takes an iterator on every shard, at the mapping's starting position."""
        shards = self._streams.describe_stream(StreamArn=self.source.stream_arn)[
            "StreamDescription"
        ]["Shards"]
        for shard in shards:
            self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                StreamArn=self.source.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType=self.source.starting_position,
            )["ShardIterator"]

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._running.wait()
            try:
                if not self.poll_once():
                    self._stopping.wait(self._poll_seconds)
            except (ClientError, BotoCoreError) as error:
                self.errors.append(repr(error))
                self._stopping.wait(1)

    def poll_once(self) -> int:
        """Reads and delivers what each shard holds now; answers how many records were read."""
        if not self._iterators:
            self.open()
        read = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = self._streams.get_records(
                ShardIterator=iterator, Limit=min(self.source.batch_size, MAX_GET_RECORDS)
            )
            self._iterators[shard_id] = response.get("NextShardIterator")
            records = [
                lambda_record(record, self.source.stream_arn) for record in response["Records"]
            ]
            read += len(records)
            wanted = [record for record in records if self._wanted(record)]
            if wanted:
                self.deliver(shard_id, wanted)
        return read

    def drain(self, *, max_polls: int = 100) -> None:
        """Polls until the shards hold nothing new (for tests and tools that wait)."""
        for _ in range(max_polls):
            if not self.poll_once():
                return
        raise RuntimeError(f"the stream still had records after {max_polls} polls")

    def _wanted(self, record: dict[str, Any]) -> bool:
        return not self.source.filters or any(
            matches(pattern, record) for pattern in self.source.filters
        )

    def deliver(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        batch = self._expired_sent_away(shard_id, batch)
        retries = 0
        while batch:
            failed_from, function_error = self._invoke_once(batch)
            if failed_from is None:
                return
            if function_error and self.source.bisect_on_error and len(batch) > 1:
                half = len(batch) // 2
                self.deliver(shard_id, batch[:half])
                self.deliver(shard_id, batch[half:])
                return
            batch = batch[failed_from:]
            retries += 1
            if 0 <= self.source.retry_attempts < retries:
                self._dead_letter(
                    shard_id,
                    batch,
                    condition="RetryAttemptsExhausted",
                    invocations=retries,
                    function_error="Unhandled" if function_error else None,
                )
                return

    def _invoke_once(self, batch: list[dict[str, Any]]) -> tuple[int | None, bool]:
        """(where the failure starts, None when the batch succeeded; a function error?)"""
        self.invocations += 1
        try:
            response = self._invoke(self.source.function_id, {"Records": batch})
        except Exception as error:  # a function error, as Lambda sees an unhandled exception
            self.errors.append(repr(error))
            return 0, True
        if not self.source.reports_item_failures or not isinstance(response, dict):
            return None, False
        failures = response.get("batchItemFailures") or []
        if not failures:
            return None, False
        positions = {record["dynamodb"]["SequenceNumber"]: n for n, record in enumerate(batch)}
        named = [failure.get("itemIdentifier") for failure in failures]
        if not all(identifier in positions for identifier in named):
            return 0, False  # an empty or unknown identifier fails the whole batch
        return min(positions[identifier] for identifier in named), False

    def _expired_sent_away(
        self, shard_id: str, batch: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The batch less its records past the maximum age (a prefix: a shard is in order),
        which go to the on-failure destination."""
        if self.source.max_record_age_seconds < 0:
            return batch
        oldest_allowed = self._clock() - self.source.max_record_age_seconds
        expired = 0
        while (
            expired < len(batch)
            and float(batch[expired]["dynamodb"].get("ApproximateCreationDateTime", 0))
            < oldest_allowed
        ):
            expired += 1
        if expired:
            self._dead_letter(
                shard_id,
                batch[:expired],
                condition="RecordAgeExceeded",
                invocations=0,
                function_error=None,
            )
        return batch[expired:]

    def _dead_letter(
        self,
        shard_id: str,
        batch: list[dict[str, Any]],
        *,
        condition: str,
        invocations: int,
        function_error: str | None,
    ) -> None:
        self.dead_lettered += len(batch)
        if self.source.on_failure_queue_url is None:
            self.errors.append(f"{len(batch)} records discarded ({condition}), no destination")
            return
        record = failure_record(
            self.source,
            shard_id,
            batch,
            condition=condition,
            invocations=invocations,
            function_arn=self._function_arn,
            function_error=function_error,
        )
        self._sqs.send_message(
            QueueUrl=self.source.on_failure_queue_url, MessageBody=json.dumps(record)
        )
