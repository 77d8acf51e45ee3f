"""DynamoDB stream records, as Lambda hands them to a function, read into plain values.

A record's images are DynamoDB JSON (`{"N": "35"}`); here they become what the item holds: strings,
exact Decimals, booleans, None, dicts and lists. Binary values stay the base64 text Lambda's event
carries; sets become sorted lists (a set has no order, and an event must not change between two
readings of the same record)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


class UnreadableRecord(Exception):
    """A stream record this function cannot turn into events: it is poison, and goes to the
    dead-letter queue after the stream's retries rather than blocking the records behind it."""


class ChangeKind:
    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one item: its table, its key and its images before and after."""

    table_arn: str
    kind: str
    keys: dict[str, Any]
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    sequence_number: str
    changed_at: datetime | None

    @property
    def table_name(self) -> str:
        return self.table_arn.partition(":table/")[2].split("/", 1)[0]


def read_change(record: Mapping[str, Any]) -> Change:
    """Raises UnreadableRecord when the record is not a DynamoDB stream record."""
    try:
        stream = record["dynamodb"]
        return Change(
            table_arn=str(record["eventSourceARN"]).partition("/stream/")[0],
            kind=str(record["eventName"]),
            keys=plain_image(stream["Keys"]),
            old=plain_image(stream["OldImage"]) if "OldImage" in stream else None,
            new=plain_image(stream["NewImage"]) if "NewImage" in stream else None,
            sequence_number=str(stream["SequenceNumber"]),
            changed_at=_moment(stream.get("ApproximateCreationDateTime")),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        raise UnreadableRecord(f"not a DynamoDB stream record: {type(error).__name__}") from error


def sequence_number(record: Mapping[str, Any]) -> str | None:
    """The record's sequence number (what a partial batch response names), if it has one."""
    stream = record.get("dynamodb")
    number = stream.get("SequenceNumber") if isinstance(stream, Mapping) else None
    return str(number) if number else None


def plain_image(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: plain(value) for name, value in image.items()}


def plain(value: Mapping[str, Any]) -> Any:
    ((kind, content),) = value.items()
    if kind in {"S", "B"}:
        return str(content)
    if kind == "N":
        return Decimal(content)
    if kind == "BOOL":
        return bool(content)
    if kind == "NULL":
        return None
    if kind == "M":
        return plain_image(content)
    if kind == "L":
        return [plain(element) for element in content]
    if kind in {"SS", "BS"}:
        return sorted(str(element) for element in content)
    if kind == "NS":
        return sorted(Decimal(element) for element in content)
    raise ValueError(f"unknown DynamoDB type {kind}")


def _moment(epoch_seconds: Any) -> datetime | None:
    """Lambda hands `ApproximateCreationDateTime` over as seconds since the epoch."""
    if isinstance(epoch_seconds, int | float | Decimal) and not isinstance(epoch_seconds, bool):
        return datetime.fromtimestamp(float(epoch_seconds), UTC)
    return None
