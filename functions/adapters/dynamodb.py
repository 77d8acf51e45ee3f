"""The report tables: one conditional write per report, a counter for repeated deliveries. A body
too large for its item goes to the bucket first, so that no item names a body that is not there.
Every item, of every format, is written with its expiry here: the store is where all write paths
meet (the postback function, replay)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.adapters.raw_bodies import S3RawBodies
from functions.failures import StorageUnavailable
from functions.names import CallAttribute, Item
from functions.reports.items import ReportItem, Table, body_sha256
from functions.reports.retention import Retention

_deserializer = TypeDeserializer()


def serialize(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes as DynamoDB's wire format, for the types items hold: what boto3's
    TypeSerializer gives, at a fraction of its cost on the hot path."""
    return {name: attribute_value(value) for name, value in attributes.items()}


def attribute_value(value: Any) -> dict[str, Any]:
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int or kind is Decimal:
        return {"N": str(value)}
    if kind is dict:
        return {"M": {name: attribute_value(item) for name, item in value.items()}}
    if kind is list or kind is tuple:
        return {"L": [attribute_value(item) for item in value]}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"no DynamoDB type for {kind.__name__}")


_BODY_ATTRIBUTES = (Item.RAW, Item.RAW_S3_KEY)


class DynamoReportStore:
    def __init__(
        self,
        dynamodb: AwsService,
        table_names: Mapping[Table, str],
        bodies: S3RawBodies,
        retention: Retention | None = None,
    ) -> None:
        """`retention` sets the `expiresAt` of every item written (none: kept for ever)."""
        self._dynamodb = dynamodb
        self.table_names = dict(table_names)
        self._bodies = bodies
        self._retention = retention or Retention()

    def insert(self, item: ReportItem, *, deadline: float) -> str | None:
        if item.body_in_bucket is not None:
            self._bodies.put(
                item.attributes[Item.RAW_S3_KEY], item.body_in_bucket, deadline=deadline
            )
        try:
            self._dynamodb.call(
                "put_item",
                deadline,
                TableName=self.table_names[item.table],
                Item=serialize(self._retention.applied(item.attributes)),
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": item.partition_key},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return _stored_body_sha256(error.response.get("Item", {}))
            raise StorageUnavailable(error_code(error)) from error
        except BotoCoreError as error:
            raise StorageUnavailable(error_code(error)) from error
        return None

    def count_delivery(self, item: ReportItem, *, deadline: float) -> None:
        try:
            self._dynamodb.call(
                "update_item",
                deadline,
                TableName=self.table_names[item.table],
                Key=serialize(item.key),
                UpdateExpression="ADD #deliveries :one",
                ConditionExpression="attribute_exists(#key)",
                ExpressionAttributeNames={
                    "#deliveries": Item.DELIVERIES,
                    "#key": item.partition_key,
                },
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(error_code(error)) from error

    def current(self, item: ReportItem, *, deadline: float) -> Mapping[str, Any] | None:
        try:
            response = self._dynamodb.call(
                "get_item",
                deadline,
                TableName=self.table_names[item.table],
                Key=serialize(item.key),
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(error_code(error)) from error
        stored = response.get("Item")
        if stored is None:
            return None
        return {name: _deserializer.deserialize(value) for name, value in stored.items()}

    def replace(
        self,
        item: ReportItem,
        stored: Mapping[str, Any],
        attributes: Mapping[str, Any],
        *,
        deadline: float,
    ) -> bool:
        """One UpdateItem of what changed, on condition that `version` is still what was read
        (every replacement writes a new one). A body kept in the bucket is written first."""
        if item.body_in_bucket is not None and Item.RAW_S3_KEY in attributes:
            self._bodies.put(attributes[Item.RAW_S3_KEY], item.body_in_bucket, deadline=deadline)
        update = _Update(item.key)
        update.diff(stored, attributes)
        if Item.VERSION in stored:
            condition = "#version = :read_version"
            update.values[":read_version"] = attribute_value(stored[Item.VERSION])
        else:
            condition = "attribute_not_exists(#version)"
        update.names["#version"] = Item.VERSION
        update.names["#key"] = item.partition_key
        try:
            self._dynamodb.call(
                "update_item",
                deadline,
                TableName=self.table_names[item.table],
                Key=serialize(item.key),
                UpdateExpression=update.expression(),
                ConditionExpression=f"attribute_exists(#key) AND {condition}",
                ExpressionAttributeNames=update.names,
                ExpressionAttributeValues=update.values,
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise StorageUnavailable(error_code(error)) from error
        except BotoCoreError as error:
            raise StorageUnavailable(error_code(error)) from error
        return True


def _stored_body_sha256(stored: Mapping[str, Any]) -> str:
    return body_sha256(
        {name: stored[name].get("S", "") for name in _BODY_ATTRIBUTES if name in stored}
    )


class _Update:
    """An update expression that sets what differs and removes what is gone. `deliveries` is
    never written (concurrent duplicates count it); recording entries are set one by one when
    the list keeps its length, so a copy recorded meanwhile on another entry is not undone."""

    def __init__(self, key: Mapping[str, str]) -> None:
        self._key = key
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def diff(self, stored: Mapping[str, Any], attributes: Mapping[str, Any]) -> None:
        for name, value in attributes.items():
            if name in self._key or name == Item.DELIVERIES or stored.get(name) == value:
                continue
            if name == CallAttribute.RECORDINGS and _same_length(stored.get(name), value):
                path = self._name(name)
                for index, entry in enumerate(value):
                    if stored[name][index] != entry:
                        self._set(f"{path}[{index}]", entry)
                continue
            self._set(self._name(name), value)
        for name in stored:
            if name not in attributes and name not in self._key and name != Item.DELIVERIES:
                self.removes.append(self._name(name))

    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        return " ".join(parts)

    def _name(self, name: str) -> str:
        placeholder = f"#a{len(self.names)}"
        self.names[placeholder] = name
        return placeholder

    def _set(self, path: str, value: Any) -> None:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = attribute_value(value)
        self.sets.append(f"{path} = {placeholder}")


def _same_length(stored: Any, value: Any) -> bool:
    return isinstance(stored, list) and isinstance(value, list) and len(stored) == len(value)
