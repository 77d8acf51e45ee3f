"""Query the stored reports, on the local system or in AWS, with the same code.

    python -m tools.query calls --campaign 22222      every call of a campaign, newest first
    python -m tools.query calls --phone 2132212289    everything with a phone number
    python -m tools.query calls --id 111111           a call and its texts
    python -m tools.query campaigns                   finished campaigns
    python -m tools.query failed-recordings           recordings that could not be copied

Target: the local system when `.local/endpoints.json` exists (`make local` writes it), else AWS
with your credentials and the table names from the stack's outputs. `--aws` or `--local` chooses
explicitly; AWS_ENDPOINT_URL and AWS_REGION are honoured as boto3 honours them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.names import (
    CallAttribute,
    CallsTable,
    CampaignAttribute,
    Item,
    RecordingEntry,
    RecordingStatus,
)
from tools.table import render
from tools.target import Target, TargetError, add_target_arguments, chosen_target, items

CALL_COLUMNS = (
    CallAttribute.CALL_ID,
    CallAttribute.EVENT_TYPE,
    CallAttribute.CAMPAIGN_ID,
    CallAttribute.PHONE_NUMBER,
    CallAttribute.CALL_START,
    CallAttribute.DISPOSITION,
    CallAttribute.DURATION_SECONDS,
    Item.DELIVERIES,
    CallAttribute.RECORDINGS,
)
CAMPAIGN_COLUMNS = (
    CampaignAttribute.CAMPAIGN_ID,
    CampaignAttribute.NAME,
    CampaignAttribute.STATUS,
    CampaignAttribute.COST,
    CampaignAttribute.CURRENCY,
    CampaignAttribute.TOTAL,
    CampaignAttribute.DIALED,
    CampaignAttribute.LIVE,
    Item.DELIVERIES,
)
RECORDING_INDEX = "index"
FAILED_RECORDING_COLUMNS = (
    CallAttribute.CALL_ID,
    CallAttribute.EVENT_TYPE,
    CallAttribute.CAMPAIGN_ID,
    RECORDING_INDEX,
    RecordingEntry.URL,
    RecordingEntry.REASON,
)


def calls_by_campaign(target: Target, campaign_id: str) -> list[dict[str, Any]]:
    """Every call and text of a campaign, newest first."""
    return _newest_first(target, CallsTable.BY_CAMPAIGN, CallAttribute.CAMPAIGN_ID, campaign_id)


def calls_by_phone(target: Target, phone_number: str) -> list[dict[str, Any]]:
    """Everything that happened with a phone number, newest first."""
    return _newest_first(
        target, CallsTable.BY_PHONE_NUMBER, CallAttribute.PHONE_NUMBER, phone_number
    )


def _newest_first(target: Target, index: str, key: str, value: str) -> list[dict[str, Any]]:
    return list(
        items(
            target.client("dynamodb"),
            "query",
            TableName=target.calls_table,
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": key},
            ExpressionAttributeValues={":v": {"S": value}},
            ScanIndexForward=False,
        )
    )


def calls_by_id(target: Target, call_id: str) -> list[dict[str, Any]]:
    return list(
        items(
            target.client("dynamodb"),
            "query",
            TableName=target.calls_table,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": CallsTable.PARTITION_KEY},
            ExpressionAttributeValues={":v": {"S": call_id}},
        )
    )


def campaigns(target: Target) -> list[dict[str, Any]]:
    found = list(items(target.client("dynamodb"), "scan", TableName=target.campaigns_table))
    return sorted(found, key=lambda item: str(item.get(Item.RECEIVED_AT, "")), reverse=True)


def failed_recordings(target: Target) -> list[dict[str, Any]]:
    """Every recording entry whose status is FAILED, with its call's key. Scans the calls table
    (reading only the keys and `recordings`)."""
    rows = []
    stored = items(
        target.client("dynamodb"),
        "scan",
        TableName=target.calls_table,
        FilterExpression="attribute_exists(#r)",
        ProjectionExpression="#c, #e, #campaign, #r",
        ExpressionAttributeNames={
            "#c": CallsTable.PARTITION_KEY,
            "#e": CallsTable.SORT_KEY,
            "#campaign": CallAttribute.CAMPAIGN_ID,
            "#r": CallAttribute.RECORDINGS,
        },
    )
    for item in stored:
        for index, recording in enumerate(item.get(CallAttribute.RECORDINGS, [])):
            if recording.get(RecordingEntry.STATUS) == RecordingStatus.FAILED:
                details = {
                    name: value
                    for name, value in recording.items()
                    if name not in (RecordingEntry.URL, RecordingEntry.STATUS)
                }
                rows.append(
                    {
                        CallAttribute.CALL_ID: item[CallsTable.PARTITION_KEY],
                        CallAttribute.EVENT_TYPE: item[CallsTable.SORT_KEY],
                        CallAttribute.CAMPAIGN_ID: item.get(CallAttribute.CAMPAIGN_ID),
                        RECORDING_INDEX: index,
                        RecordingEntry.URL: recording.get(RecordingEntry.URL),
                        **details,
                    }
                )
    return rows


def _summary(value: Any, column: str) -> Any:
    if column == CallAttribute.RECORDINGS and isinstance(value, list):
        return ", ".join(
            f"{entry.get(RecordingEntry.STATUS)} "
            f"{entry.get(RecordingEntry.S3_KEY) or entry.get(RecordingEntry.URL)}"
            for entry in value
        )
    return value


def as_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    return render(
        columns, [[_summary(row.get(column), column) for column in columns] for row in rows]
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(type(value).__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.query",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_target_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--raw", action="store_true", help="include the raw bodies (with --json)")
    commands = parser.add_subparsers(dest="command", required=True)
    calls = commands.add_parser("calls", help="calls and texts")
    which = calls.add_mutually_exclusive_group(required=True)
    which.add_argument("--campaign", metavar="ID")
    which.add_argument("--phone", metavar="NUMBER")
    which.add_argument("--id", metavar="ID")
    commands.add_parser("campaigns", help="finished campaigns")
    commands.add_parser("failed-recordings", help="recordings that could not be copied")
    options = parser.parse_args(argv)

    try:
        target = chosen_target(options)
        rows, columns = _run(options, target)
    except (TargetError, ClientError, BotoCoreError) as error:
        print(f"query failed: {error}", file=sys.stderr)
        return 2
    print(f"{len(rows)} from {target.description}", file=sys.stderr)
    if options.json:
        if not options.raw:
            rows = [{k: v for k, v in row.items() if k != Item.RAW} for row in rows]
        print(json.dumps(rows, indent=2, default=_plain, ensure_ascii=False))
    else:
        print(as_table(rows, columns))
    return 0


def _run(options: argparse.Namespace, target: Target) -> tuple[list[dict[str, Any]], Sequence[str]]:
    if options.command == "campaigns":
        return campaigns(target), CAMPAIGN_COLUMNS
    if options.command == "failed-recordings":
        return failed_recordings(target), FAILED_RECORDING_COLUMNS
    if options.campaign:
        return calls_by_campaign(target, options.campaign), CALL_COLUMNS
    if options.phone:
        return calls_by_phone(target, options.phone), CALL_COLUMNS
    return calls_by_id(target, options.id), CALL_COLUMNS


if __name__ == "__main__":
    sys.exit(main())
