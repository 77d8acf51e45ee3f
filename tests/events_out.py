"""What the events tests share: the JSON Schema of each detail type (docs/events/schemas), and
DynamoDB stream records built as Lambda hands them to the events function."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from functions.adapters.dynamodb import serialize
from functions.events.mapping import BusEvent

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "docs" / "events" / "schemas"
CALLS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Calls"
CAMPAIGNS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Campaigns"
STREAM_LABEL = "/stream/2026-11-29T00:00:00.000"


def schema_file(detail_type: str) -> Path:
    return SCHEMAS / f"{detail_type.lower().replace(' ', '-')}.json"


@cache
def schema(detail_type: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_file(detail_type).read_text())
    return loaded


def validate_event(event: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge delivers it, checked against its detail type's schema."""
    jsonschema.Draft4Validator(schema(event["detail-type"])).validate(event)
    return event


def validate_detail(event: BusEvent) -> dict[str, Any]:
    """A BusEvent's detail, parsed (numbers exact) and checked against its schema."""
    detail: dict[str, Any] = json.loads(event.detail, parse_float=Decimal)
    detail_schema = schema(event.detail_type)["properties"]["detail"]
    jsonschema.Draft4Validator(detail_schema).validate(json.loads(event.detail))
    return detail


def stream_record(
    kind: str,
    *,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    keys: tuple[str, ...] = ("callId", "eventType"),
    table_arn: str = CALLS_ARN,
    sequence_number: str = "100",
    created: float = 1_796_000_000.0,
) -> dict[str, Any]:
    """One record of a NEW_AND_OLD_IMAGES stream, in the shape Lambda hands a function."""
    image = new if new is not None else old
    assert image is not None
    stream: dict[str, Any] = {
        "ApproximateCreationDateTime": created,
        "Keys": serialize({name: image[name] for name in keys}),
        "SequenceNumber": sequence_number,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        stream["NewImage"] = serialize(new)
    if old is not None:
        stream["OldImage"] = serialize(old)
    return {
        "eventID": f"event-{sequence_number}",
        "eventName": kind,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": stream,
        "eventSourceARN": table_arn + STREAM_LABEL,
    }
