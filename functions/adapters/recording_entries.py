"""A recording's entry on its call item, read and updated by its index in `recordings`.

Each update names only `recordings[n]`'s own attributes and is conditional on `recordings[n].url`
being the job's URL, so it can neither touch the item's other attributes or recordings nor create
an item or an entry that is not there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.names import CallAttribute, CallsTable, RecordingEntry, RecordingStatus
from functions.recordings.jobs import RecordingJob
from functions.recordings.ports import RetryLater, StoredRecording

MAX_REASON_CHARS = 500
_deserializer = TypeDeserializer()
_NAMES = {
    "#recordings": CallAttribute.RECORDINGS,
    "#url": RecordingEntry.URL,
    "#status": RecordingEntry.STATUS,
}


class DynamoRecordingEntries:
    def __init__(self, dynamodb: AwsService, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def entry(self, job: RecordingJob, *, deadline: float) -> Mapping[str, Any] | None:
        """The whole list is read (a few small maps): `recordings[n]` projections are valid in
        DynamoDB but refused by moto, and local runs must behave the same."""
        try:
            response = self._dynamodb.call(
                "get_item",
                deadline,
                TableName=self._table_name,
                Key=_key(job),
                ProjectionExpression="#recordings",
                ExpressionAttributeNames={"#recordings": CallAttribute.RECORDINGS},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as error:
            raise RetryLater(f"the call item cannot be read: {error_code(error)}") from error
        entries = response.get("Item", {}).get(CallAttribute.RECORDINGS, {}).get("L", [])
        if job.index >= len(entries) or "M" not in entries[job.index]:
            return None
        entry: dict[str, Any] = _deserializer.deserialize(entries[job.index])
        return entry

    def mark_copied(self, job: RecordingJob, stored: StoredRecording, *, deadline: float) -> bool:
        entry = f"#recordings[{job.index}]"
        return self._update(
            job,
            deadline=deadline,
            update=(
                f"SET {entry}.#status = :copied, {entry}.#s3Key = :key, "
                f"{entry}.#contentType = :type, {entry}.#bytes = :bytes "
                f"REMOVE {entry}.#reason"
            ),
            condition=f"{entry}.#url = :url",
            names={
                "#s3Key": RecordingEntry.S3_KEY,
                "#contentType": RecordingEntry.CONTENT_TYPE,
                "#bytes": RecordingEntry.BYTES,
                "#reason": RecordingEntry.REASON,
            },
            values={
                ":copied": {"S": RecordingStatus.COPIED},
                ":key": {"S": stored.key},
                ":type": {"S": stored.content_type},
                ":bytes": {"N": str(stored.size)},
            },
        )

    def mark_failed(self, job: RecordingJob, reason: str, *, deadline: float) -> bool:
        entry = f"#recordings[{job.index}]"
        return self._update(
            job,
            deadline=deadline,
            update=f"SET {entry}.#status = :failed, {entry}.#reason = :reason",
            condition=f"{entry}.#url = :url AND {entry}.#status <> :copied",
            names={"#reason": RecordingEntry.REASON},
            values={
                ":failed": {"S": RecordingStatus.FAILED},
                ":copied": {"S": RecordingStatus.COPIED},
                ":reason": {"S": reason[:MAX_REASON_CHARS] or "unknown"},
            },
        )

    def _update(
        self,
        job: RecordingJob,
        *,
        deadline: float,
        update: str,
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> bool:
        try:
            self._dynamodb.call(
                "update_item",
                deadline,
                TableName=self._table_name,
                Key=_key(job),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={**_NAMES, **names},
                ExpressionAttributeValues={**values, ":url": {"S": job.url}},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise RetryLater(f"the call item cannot be updated: {error_code(error)}") from error
        except BotoCoreError as error:
            raise RetryLater(f"the call item cannot be updated: {error_code(error)}") from error
        return True


def _key(job: RecordingJob) -> dict[str, Any]:
    return {
        CallsTable.PARTITION_KEY: {"S": job.call_id},
        CallsTable.SORT_KEY: {"S": job.event_type},
    }
