"""The report tables: one conditional write per report, a counter for repeated deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import error_code
from functions.failures import StorageUnavailable
from functions.names import Item
from functions.reports.items import ReportItem, Table


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


class DynamoReportStore:
    def __init__(self, client: Any, table_names: Mapping[Table, str]) -> None:
        self._client = client
        self.table_names = dict(table_names)

    def insert(self, item: ReportItem) -> str | None:
        try:
            self._client.put_item(
                TableName=self.table_names[item.table],
                Item=serialize(item.attributes),
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": item.partition_key},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                stored = error.response.get("Item", {})
                return str(stored.get(Item.RAW, {}).get("S", ""))
            raise StorageUnavailable(error_code(error)) from error
        except BotoCoreError as error:
            raise StorageUnavailable(error_code(error)) from error
        return None

    def count_delivery(self, item: ReportItem) -> None:
        try:
            self._client.update_item(
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
