"""The report tables: one conditional write per report, a counter for repeated deliveries. A body
too large for its item goes to the bucket first, so that no item names a body that is not there.
Every item, of every format, is written with its expiry here: the store is where all write paths
meet (the postback function, replay)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.adapters.raw_bodies import S3RawBodies
from functions.failures import StorageUnavailable
from functions.names import Item
from functions.reports.items import ReportItem, Table, body_sha256
from functions.reports.retention import Retention


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


def _stored_body_sha256(stored: Mapping[str, Any]) -> str:
    return body_sha256(
        {name: stored[name].get("S", "") for name in _BODY_ATTRIBUTES if name in stored}
    )
