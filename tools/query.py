"""Query the stored reports, on the local system or in AWS, with the same code.

    python -m tools.query calls --campaign 22222      every call of a campaign, newest first
    python -m tools.query calls --phone 2132212289    everything with a phone number
    python -m tools.query calls --id 111111           a call and its texts
    python -m tools.query campaigns                   finished campaigns
    python -m tools.query failed-recordings           recordings that could not be copied

Options go before or after the command: `calls --id 111111 --json` and `--json calls --id 111111`
are the same. A list read from an index (--campaign, --phone) shows the columns the index
carries; --full reads each whole item.

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

from functions.failures import Unavailable
from functions.names import (
    CallAttribute,
    CallsTable,
    CampaignAttribute,
    Item,
    RecordingEntry,
    RecordingStatus,
)
from tools.cli import command, commands, default
from tools.table import render
from tools.target import (
    Target,
    TargetError,
    add_target_arguments,
    chosen_target,
    items,
    plain_item,
)

CALL_COLUMNS = (
    CallAttribute.CALL_ID,
    CallAttribute.EVENT_TYPE,
    CallAttribute.CAMPAIGN_ID,
    CallAttribute.PHONE_NUMBER,
    CallAttribute.CALL_START,
    CallAttribute.DISPOSITION,
    CallAttribute.DURATION_SECONDS,
    Item.DELIVERIES,
    Item.SOURCE,
    CallAttribute.RECORDINGS,
)
CAMPAIGN_COLUMNS = (
    CampaignAttribute.CAMPAIGN_ID,
    CampaignAttribute.NAME,
    CampaignAttribute.STATUS,
    Item.SOURCE,
    CampaignAttribute.EVENTS,
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
    """Every call and text of a campaign, newest first, whichever generation reported it."""
    rows = _newest_first(target, CallsTable.BY_CAMPAIGN, CallAttribute.CAMPAIGN_ID, campaign_id)
    return with_sources(target, rows)


def calls_by_phone(target: Target, phone_number: str) -> list[dict[str, Any]]:
    """Everything that happened with a phone number, newest first."""
    rows = _newest_first(
        target, CallsTable.BY_PHONE_NUMBER, CallAttribute.PHONE_NUMBER, phone_number
    )
    return with_sources(target, rows)


BATCH_GET = 100
"""BatchGetItem's most keys per request."""


def with_sources(target: Target, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (from an index, which does not project `source`) with each item's `source` read
    from the table: which generation of CallFire's reports each row is."""
    dynamodb = target.client("dynamodb")
    keys = [CallsTable.PARTITION_KEY, CallsTable.SORT_KEY]
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(rows), BATCH_GET):
        request: dict[str, Any] = {
            target.calls_table: {
                "Keys": [
                    {name: {"S": row[name]} for name in keys}
                    for row in rows[start : start + BATCH_GET]
                ],
                "ProjectionExpression": "#c, #e, #s",
                "ExpressionAttributeNames": {"#c": keys[0], "#e": keys[1], "#s": Item.SOURCE},
            }
        }
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(target.calls_table, []):
                if Item.SOURCE in item:
                    found[(item[keys[0]]["S"], item[keys[1]]["S"])] = item[Item.SOURCE]["S"]
            request = answer.get("UnprocessedKeys") or {}
    return [
        {**row, Item.SOURCE: found[key]} if (key := (row[keys[0]], row[keys[1]])) in found else row
        for row in rows
    ]


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


INDEXED = {
    CallsTable.PARTITION_KEY,
    CallsTable.SORT_KEY,
    *(key for keys in CallsTable.INDEXES.values() for key in keys),
    *CallsTable.INDEX_ATTRIBUTES,
    Item.SOURCE,
}
"""What an item read from `byCampaign` or `byPhoneNumber` holds (`source` is read from the table
for each row: the indexes do not carry it, and a list of both generations needs it)."""


def whole_items(target: Target, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The whole items of `rows` (read from an index), in the same order."""
    keys = [(row[CallsTable.PARTITION_KEY], row[CallsTable.SORT_KEY]) for row in rows]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    dynamodb = target.client("dynamodb")
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {
            target.calls_table: {
                "Keys": [
                    {CallsTable.PARTITION_KEY: {"S": call_id}, CallsTable.SORT_KEY: {"S": kind}}
                    for call_id, kind in keys[start : start + 100]
                ]
            }
        }
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(target.calls_table, []):
                plain = plain_item(item)
                found[(plain[CallsTable.PARTITION_KEY], plain[CallsTable.SORT_KEY])] = plain
            request = answer.get("UnprocessedKeys") or {}
    return [found[key] for key in keys if key in found]


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
    if column == CampaignAttribute.EVENTS and isinstance(value, dict):
        return ", ".join(f"{event} {when}" for event, when in sorted(value.items(), key=str))
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


def _add_options(parser: argparse.ArgumentParser, top: bool) -> None:
    add_target_arguments(parser, top)
    parser.add_argument(
        "--json", action="store_true", default=default(False, top), help="print JSON, not a table"
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        default=default(False, top),
        help="with --json: include each report's raw body",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        default=default(False, top),
        help="calls --campaign/--phone: read each whole item, not only what the index carries",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m tools.query",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = commands(top, _add_options)
    calls = command(subparsers, "calls", "calls and texts", _add_options)
    which = calls.add_mutually_exclusive_group(required=True)
    which.add_argument("--campaign", metavar="ID", help="every call of a campaign, newest first")
    which.add_argument("--phone", metavar="NUMBER", help="everything with a phone number")
    which.add_argument("--id", metavar="ID", help="a call and its texts")
    command(subparsers, "campaigns", "finished campaigns", _add_options)
    command(subparsers, "failed-recordings", "recordings that could not be copied", _add_options)
    return top


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.raw and not options.json:
        parser().error("--raw shows the raw bodies in JSON: add --json")
    try:
        target = chosen_target(options)
        rows, columns, missing = _run(options, target)
        if options.json and options.raw:
            rows = [target.with_body(row) for row in rows]
    except (TargetError, ClientError, BotoCoreError, Unavailable) as error:
        print(f"query failed: {error}", file=sys.stderr)
        return 2
    print(f"{len(rows)} from {target.description}", file=sys.stderr)
    if options.json:
        if not options.raw:
            rows = [{k: v for k, v in row.items() if k != Item.RAW} for row in rows]
        print(json.dumps(rows, indent=2, default=_plain, ensure_ascii=False))
    else:
        print(as_table(rows, columns))
    if missing and rows:
        print(
            f"{', '.join(missing)}: not in the index this list is read from; "
            "add --full for whole items, or `calls --id ID` for one",
            file=sys.stderr,
        )
    return 0


def _run(
    options: argparse.Namespace, target: Target
) -> tuple[list[dict[str, Any]], Sequence[str], Sequence[str]]:
    """The rows, the columns to show, and the columns the index could not fill."""
    if options.command == "campaigns":
        return campaigns(target), CAMPAIGN_COLUMNS, ()
    if options.command == "failed-recordings":
        return failed_recordings(target), FAILED_RECORDING_COLUMNS, ()
    if options.id:
        return calls_by_id(target, options.id), CALL_COLUMNS, ()
    rows = (
        calls_by_campaign(target, options.campaign)
        if options.campaign
        else calls_by_phone(target, options.phone)
    )
    if options.full:
        return whole_items(target, rows), CALL_COLUMNS, ()
    columns = [column for column in CALL_COLUMNS if column in INDEXED]
    return rows, columns, [column for column in CALL_COLUMNS if column not in INDEXED]


if __name__ == "__main__":
    sys.exit(main())
