"""DynamoDB stream records as GetRecords returns them, turned into what Lambda hands a function; and
a range of a shard read again (what a dead-letter message names). Shared by the local stream event
source and the replay tool."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

EMPTY_PAGES_BEFORE_GIVING_UP = 3
"""GetRecords may answer an empty page before the records that follow it; after this many in a
row, the range is taken as read."""


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A record as GetRecords returns it (through boto3) → as Lambda hands it to a function."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = created.timestamp()
    for image in ("Keys", "NewImage", "OldImage"):
        if image in stream:
            stream[image] = {name: _base64_binary(value) for name, value in stream[image].items()}
    return {**record, "dynamodb": stream, "eventSourceARN": stream_arn}


def _base64_binary(value: Mapping[str, Any]) -> dict[str, Any]:
    """boto3 decodes binary values to bytes; Lambda's JSON event carries them as base64 text."""
    ((kind, content),) = value.items()
    if kind == "B":
        return {kind: base64.b64encode(content).decode("ascii")}
    if kind == "BS":
        return {kind: [base64.b64encode(element).decode("ascii") for element in content]}
    if kind == "M":
        return {kind: {name: _base64_binary(item) for name, item in content.items()}}
    if kind == "L":
        return {kind: [_base64_binary(item) for item in content]}
    return dict(value)


def read_range(
    streams: Any, stream_arn: str, shard_id: str, first: str, last: str
) -> Iterator[dict[str, Any]]:
    """The records of a shard from sequence number `first` to `last`, in Lambda's shape. Raises
    botocore's ClientError `TrimmedDataAccessException` (or `ResourceNotFoundException`) when
    DynamoDB no longer keeps them (after 24 hours)."""
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn,
        ShardId=shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=first,
    )["ShardIterator"]
    empty = 0
    while iterator and empty < EMPTY_PAGES_BEFORE_GIVING_UP:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        iterator = page.get("NextShardIterator")
        empty = 0 if page["Records"] else empty + 1
        for record in page["Records"]:
            if int(record["dynamodb"]["SequenceNumber"]) > int(last):
                return
            yield lambda_record(record, stream_arn)
