"""The report tables: one conditional write per report, a counter for repeated deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import error_code
from functions.names import Item
from functions.postback.ports import StorageUnavailable
from functions.reports.items import ReportItem, Table

_serializer = TypeSerializer()


def serialize(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in attributes.items()}


class DynamoReportStore:
    def __init__(self, client: Any, table_names: Mapping[Table, str]) -> None:
        self._client = client
        self._table_names = dict(table_names)

    def insert(self, item: ReportItem) -> str | None:
        try:
            self._client.put_item(
                TableName=self._table_names[item.table],
                Item=serialize(item.attributes),
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": next(iter(item.key))},
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
                TableName=self._table_names[item.table],
                Key=serialize(item.key),
                UpdateExpression="ADD #deliveries :one",
                ConditionExpression="attribute_exists(#key)",
                ExpressionAttributeNames={
                    "#deliveries": Item.DELIVERIES,
                    "#key": next(iter(item.key)),
                },
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(error_code(error)) from error
