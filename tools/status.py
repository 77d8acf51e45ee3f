"""Status: is the receiver healthy right now? One screen, on the local system or the deployed
stack (`make status`, `make status ARGS=--aws`).

    python -m tools.status [--aws [--stage STAGE]] [--since YYYY-MM-DD] [--json]

It shows the stack and its stage; what was subscribed with CallFire, and when; when the last
report arrived and how many arrived in the last 24 hours, by kind; the bodies refused
(`rejected/`) and not stored (`unstored/`) since a date (default: 7 days ago); recordings
PENDING and FAILED; what waits in each dead-letter queue; and the stack's alarms in ALARM. A line
that needs a person says the command that acts on it.

On AWS nothing big is scanned: the counts come from CloudWatch (the `ReportsReceived`,
`RecordingsFailed` and `RecordingsNotQueued` metrics, Logs Insights on the postback function's
log for the split by kind) and the queues. Locally the tables are scanned, and what the local
system does not emulate (CloudWatch) is shown as unknown. What a service cannot answer is never
guessed: it says unknown, and why.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.unstored_bodies import S3UnstoredBodies
from functions.names import (
    DEFAULT_STAGE,
    METRICS_NAMESPACE,
    SERVICE_NAME,
    UNSTORED_ALARM_DAYS,
    ArchiveTag,
    CallAttribute,
    CallsTable,
    CampaignAttribute,
    Dimension,
    Handler,
    Item,
    LocalEndpoint,
    LogKey,
    Metric,
    Output,
    Prefix,
    RecordingEntry,
    RecordingStatus,
    RegistrationRecord,
    StatusObject,
    SubscriptionResource,
)
from functions.postback.service import Status as Outcome
from functions.reports.smoke import is_smoke_item
from functions.unstored_watch.service import UnstoredWatch
from tools.cli import day
from tools.target import (
    ENDPOINTS_FILE,
    Target,
    TargetError,
    add_target_arguments,
    chosen_target,
    dead_letter_queues,
    items,
)

DEFAULT_DAYS = 7
RECENT = timedelta(hours=24)
LAST_REPORT_LOOKBACK = timedelta(days=14)
"""How far back the hourly `ReportsReceived` is read for the last report older than a day."""
QUERY_WAIT_SECONDS = 30.0
TAG_READS = 100
"""At most this many `unstored/` bodies are asked whether they were replayed (one call each)."""
WATCH_SECONDS = 60.0
"""How long finding the oldest body not replayed may take (a listing and the tags it reads)."""
REPORT_HANDLERS = (Handler.POSTBACK,)
"""The functions whose logs carry each report's outcome and kind (LogKey)."""
RECEIVED_OUTCOMES = (Outcome.STORED, Outcome.UPDATED, Outcome.DUPLICATE, Outcome.CONFLICT)
"""The outcomes `ReportsReceived` counts (functions/handlers/responses.py)."""
_RECEIVED = " or ".join(f'{LogKey.OUTCOME} = "{outcome.value}"' for outcome in RECEIVED_OUTCOMES)
KINDS_QUERY = (
    f"filter ({_RECEIVED}) and not ispresent({LogKey.SMOKE})"
    f" | stats count(*) as reports, max(@timestamp) as lastAt by {LogKey.KIND}"
)
"""Logs Insights: the reports received, by kind, less smoke tests, as `ReportsReceived` counts
them (tests/integration/test_metric_contract.py checks the fields against what is logged)."""


ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
SILENCE_ALARM = "ReportsSilent"
DEAD_LETTER_ALARM = "DeadLetterAlarm"
"""How the names of the silence alarm and of a dead-letter queue's alarm end
(infra/constructs/monitoring.py, infra/constructs/recordings.py)."""
EVENTS_DEAD_LETTER_ALARM = "Events-DeadLetterAlarm"
"""The events dead-letter queue's alarm (infra/constructs/events.py): its records are published
again from the stream (`replay events`), not moved back to a queue."""
EVENTS_DEAD_LETTERS = {Output.EVENTS_DEAD_LETTER_QUEUE, LocalEndpoint.EVENTS_DEAD_LETTER_QUEUE}


class State(StrEnum):
    OK = "ok"
    ACTION = "action"
    INFO = "info"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Check:
    topic: str
    state: State
    text: str
    command: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        mark = {State.OK: "ok", State.ACTION: "ACTION", State.INFO: "", State.UNKNOWN: "?"}
        lines = [f"  {mark[self.state]:<7}{self.topic:<15}{self.text}"]
        if self.command:
            lines.append(f"  {'':<7}{'':<15}-> {self.command}")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "state": self.state.value,
            "text": self.text,
            "command": self.command,
            "data": dict(self.data),
        }


class Unknown(Exception):
    """A service could not answer: the check says unknown, with this reason."""


def when(moment: datetime, now: datetime) -> str:
    """`2026-11-29 10:00 UTC (3 h ago)`."""
    age = now - moment
    if age < timedelta(minutes=1):
        ago = "just now"
    elif age < timedelta(hours=1):
        ago = f"{int(age.total_seconds() // 60)} min ago"
    elif age < timedelta(days=2):
        ago = f"{int(age.total_seconds() // 3600)} h ago"
    else:
        ago = f"{age.days} days ago"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({ago})"


def parse_time(text: str) -> datetime | None:
    """`receivedAt` (`2026-11-28T05:26:07.123Z`), a record's `at`, or Logs Insights'
    `2026-11-28 05:26:07.123`; None when it is neither."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Commands:
    """The commands printed for actions, with the options that chose this target, so that each
    runs as printed against the same receiver."""

    target: Target
    options: argparse.Namespace

    def tool_options(self) -> list[str]:
        if self.target.local:
            endpoints = Path(self.options.endpoints)
            default = endpoints.resolve() == ENDPOINTS_FILE.resolve()
            return [] if default else ["--endpoints", str(endpoints)]
        chosen = ["--aws"]
        if self.options.stage and self.options.stage != DEFAULT_STAGE:
            chosen += ["--stage", self.options.stage]
        if self.options.stack:
            chosen += ["--stack", self.options.stack]
        if self.options.region:
            chosen += ["--region", self.options.region]
        return chosen

    def make(self, target_name: str, *arguments: str) -> str:
        words = [*self.tool_options(), *arguments]
        return f'make {target_name} ARGS="{shlex.join(words)}"' if words else f"make {target_name}"

    def resubscribe(self, record: Mapping[str, Any] | None) -> str:
        """What subscribes the postback URL with CallFire again, from here."""
        if self.target.local:
            return "make local"  # restarted: it subscribes with the stand-in CallFire at start
        region = self.target.session.region_name
        if Output.SUBSCRIBE_COMMAND in self.target.outputs:
            query = f"Stacks[0].Outputs[?OutputKey=='{Output.SUBSCRIBE_COMMAND}'].OutputValue"
            return (
                f'eval "$(aws cloudformation describe-stacks --region {region} '
                f'--stack-name {self.target.stack_name} --query "{query}" --output text)"'
            )
        function = (record or {}).get(RegistrationRecord.FUNCTION)
        properties = (record or {}).get(RegistrationRecord.PROPERTIES)
        if not function or not properties:
            return "make deploy (with a change the subscription depends on)"
        payload = json.dumps({"RequestType": "Update", "ResourceProperties": properties})
        return (
            f"aws lambda invoke --region {region} --function-name {shlex.quote(function)} "
            f"--cli-binary-format raw-in-base64-out --payload {shlex.quote(payload)} /dev/stdout"
        )


class Status:
    def __init__(
        self,
        target: Target,
        options: argparse.Namespace,
        *,
        since: date,
        now: datetime | None = None,
        wait: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = target
        self.commands = Commands(target, options)
        self.since = since
        self.now = now or datetime.now(UTC)
        self.wait = wait
        self.record: Mapping[str, Any] | None = None
        self._physical_ids: dict[str, str] | None = None
        self._template: dict[str, Any] | None = None

    def checks(self) -> Iterator[Check]:
        yield self.attempt("stack", self.stack)
        yield self.attempt("subscription", self.subscription)
        yield from self.attempt_all("reports", self.reports)
        yield from self.attempt_all("archived", self.archived)
        yield from self.attempt_all("recordings", self.recordings)
        yield from self.attempt_all("dead letters", self.dead_letters)
        yield from self.attempt_all("alarms", self.alarms)

    def attempt(self, topic: str, check: Callable[[], Check]) -> Check:
        try:
            return check()
        except Unknown as reason:
            return Check(topic, State.UNKNOWN, f"unknown: {reason}")
        except (ClientError, BotoCoreError) as error:
            return Check(topic, State.UNKNOWN, f"unknown: {_error_text(error)}")

    def attempt_all(self, topic: str, checks: Callable[[], list[Check]]) -> list[Check]:
        try:
            return checks()
        except Unknown as reason:
            return [Check(topic, State.UNKNOWN, f"unknown: {reason}")]
        except (ClientError, BotoCoreError) as error:
            return [Check(topic, State.UNKNOWN, f"unknown: {_error_text(error)}")]

    # The stack and its stage

    def stack(self) -> Check:
        stage = self.target.stage or "unknown"
        if self.target.local:
            return Check(
                "stack",
                State.INFO,
                f"{self.target.description}",
                data={"local": True, "stage": stage},
            )
        cloudformation = self.target.client("cloudformation")
        (stack,) = cloudformation.describe_stacks(StackName=self.target.stack_name)["Stacks"]
        status = str(stack.get("StackStatus", "unknown"))
        deployed = stack.get("LastUpdatedTime") or stack.get("CreationTime")
        text = (
            f"{self.target.stack_name}, stage {stage}, {self.target.session.region_name}: "
            f"{status}" + (f", deployed {when(deployed, self.now)}" if deployed else "")
        )
        data = {
            "stack": self.target.stack_name,
            "stage": stage,
            "region": self.target.session.region_name,
            "stackStatus": status,
            "deployedAt": deployed.isoformat() if deployed else None,
        }
        if status.endswith(("FAILED", "ROLLBACK_COMPLETE")):
            return Check(
                "stack",
                State.ACTION,
                text,
                f"aws cloudformation describe-stack-events --region "
                f"{self.target.session.region_name} --stack-name {self.target.stack_name} "
                "--max-items 20",
                data,
            )
        return Check("stack", State.OK, text, data=data)

    def physical_ids(self) -> dict[str, str]:
        """The stack's resources: logical id to physical id (AWS only)."""
        if self._physical_ids is None:
            pages = (
                self.target.client("cloudformation")
                .get_paginator("list_stack_resources")
                .paginate(StackName=self.target.stack_name)
            )
            self._physical_ids = {
                str(summary["LogicalResourceId"]): str(summary["PhysicalResourceId"])
                for page in pages
                for summary in page.get("StackResourceSummaries", [])
                if summary.get("PhysicalResourceId")
            }
        return self._physical_ids

    def declared(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The properties of the deployed template's resources of one type, by logical id: what
        the stack declares, whatever branch added it (AWS only)."""
        if self._template is None:
            body = (
                self.target.client("cloudformation")
                .get_template(StackName=self.target.stack_name)
                .get("TemplateBody", {})
            )
            self._template = json.loads(body) if isinstance(body, str) else dict(body)
        return {
            logical_id: dict(resource.get("Properties") or {})
            for logical_id, resource in self._template.get("Resources", {}).items()
            if resource.get("Type") == resource_type
        }

    def named(self, logical_id: str, name: Any) -> str | None:
        """A resource's name: the one the template writes, else the one CloudFormation gave."""
        return name if isinstance(name, str) else self.physical_ids().get(logical_id)

    # What was subscribed with CallFire

    def subscription(self) -> Check:
        self.record = record = self.registration_record()
        if record is None:
            return self.no_subscription_record()
        at = parse_time(str(record.get(RegistrationRecord.AT, "")))
        moment = when(at, self.now) if at else "at an unknown time"
        properties = record.get(RegistrationRecord.PROPERTIES) or {}
        where = properties.get(SubscriptionResource.CALLFIRE_BASE_URL, "CallFire")
        data = {"record": dict(record)}
        if record.get(RegistrationRecord.RESULT) == RegistrationRecord.SUBSCRIBED:
            subscribed = _subscriptions(record.get(RegistrationRecord.SUBSCRIPTIONS) or [])
            return Check(
                "subscription",
                State.OK,
                f"{subscribed} at {where}, {moment}",
                data=data,
            )
        message = str(record.get(RegistrationRecord.MESSAGE, "no message"))
        again = " (restart make local to subscribe again)" if self.target.local else ""
        return Check(
            "subscription",
            State.ACTION,
            f"FAILED {moment}: {message}{again}",
            self.commands.resubscribe(record),
            data,
        )

    def registration_record(self) -> dict[str, Any] | None:
        if self.target.bucket is None:
            raise Unknown("the target names no bucket")
        s3 = self.target.client("s3")
        try:
            body = s3.get_object(Bucket=self.target.bucket, Key=StatusObject.REGISTRATION)["Body"]
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        try:
            record = json.loads(body.read())
        except ValueError:
            raise Unknown(f"{StatusObject.REGISTRATION} is not JSON") from None
        return record if isinstance(record, dict) else None

    def no_subscription_record(self) -> Check:
        if not self.target.local and Output.SUBSCRIBE_COMMAND in self.target.outputs:
            return Check(
                "subscription",
                State.INFO,
                "subscribed by hand (no callfireApiKeySecretName): the stack cannot see it; "
                "to subscribe again, with CALLFIRE_API_KEY exported in your shell:",
                self.commands.resubscribe(None),
            )
        return Check(
            "subscription",
            State.UNKNOWN,
            f"unknown: no {StatusObject.REGISTRATION} yet (a deploy that subscribes writes it; "
            "stacks deployed before it existed have none)",
        )

    # Reports: the last one, and the last 24 hours by kind

    def reports(self) -> list[Check]:
        if self.target.local:
            return self.reports_from_tables()
        return self.reports_from_cloudwatch()

    def reports_from_tables(self) -> list[Check]:
        """Locally: the tables, scanned (smoke tests left out)."""
        dynamodb = self.target.client("dynamodb")
        received: list[tuple[datetime, str]] = []
        for item in self.call_items():
            moment = parse_time(str(item.get(Item.RECEIVED_AT, "")))
            if moment and not is_smoke_item(item):
                received.append((moment, str(item[CallsTable.SORT_KEY])))
        for item in items(
            dynamodb,
            "scan",
            TableName=self.target.campaigns_table,
            ProjectionExpression="#c, #r",
            ExpressionAttributeNames={"#c": CampaignAttribute.CAMPAIGN_ID, "#r": Item.RECEIVED_AT},
        ):
            moment = parse_time(str(item.get(Item.RECEIVED_AT, "")))
            if moment:
                received.append((moment, "campaign"))
        last = max((moment for moment, _ in received), default=None)
        recent = Counter(kind for moment, kind in received if moment >= self.now - RECENT)
        return [
            self.last_report_check(last, "stored items' receivedAt"),
            self.recent_check(sum(recent.values()), dict(recent), "new reports, from the tables"),
        ]

    def reports_from_cloudwatch(self) -> list[Check]:
        """On AWS: `ReportsReceived` hour by hour (last report, 24 h total), and Logs Insights
        on the postback log for the split by kind and the exact time of the last one."""
        hours = self.metric_hours(Metric.REPORTS_RECEIVED, self.now - LAST_REPORT_LOOKBACK)
        try:
            kinds, last_logged = self.kinds_from_logs()
        except Unknown as reason:
            kinds, last_logged, why = None, None, str(reason)
        else:
            why = ""
        with_data = [hour for hour, value in hours.items() if value > 0]
        last = max([*([last_logged] if last_logged else []), *with_data], default=None)
        total = int(sum(value for hour, value in hours.items() if hour >= self.now - RECENT))
        source = "Logs Insights" if last and last == last_logged else "ReportsReceived, to the hour"
        checks = [self.last_report_check(last, source, LAST_REPORT_LOOKBACK)]
        if kinds is None:
            checks.append(
                self.recent_check(total, None, f"ReportsReceived; by kind unknown: {why}")
            )
        else:
            checks.append(self.recent_check(total, kinds, "ReportsReceived; Logs Insights"))
        return checks

    def last_report_check(
        self, last: datetime | None, source: str, lookback: timedelta | None = None
    ) -> Check:
        data = {"lastReportAt": last.isoformat() if last else None, "source": source}
        if last is None:
            within = f" in the last {lookback.days} days" if lookback else ""
            return Check(
                "last report",
                State.ACTION,
                f"none{within}: if CallFire should have sent some, check the subscription above "
                "and that the receiver answers",
                self.commands.make("smoke"),
                data,
            )
        if last < self.now - RECENT:
            return Check(
                "last report",
                State.ACTION,
                f"{when(last, self.now)}: nothing since; check the subscription above, the "
                "token CallFire posts with, and your CallFire account",
                self.commands.make("smoke"),
                data,
            )
        return Check("last report", State.OK, when(last, self.now), data=data)

    def recent_check(self, total: int, kinds: Mapping[str, int] | None, source: str) -> Check:
        split = (
            ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) if kinds else ""
        )
        text = f"{total} report{'s' if total != 1 else ''}" + (f": {split}" if split else "")
        return Check(
            "last 24 h",
            State.OK if total else State.INFO,
            f"{text} ({source})",
            data={"total": total, "byKind": dict(kinds) if kinds is not None else None},
        )

    def metric_hours(
        self, name: str, start: datetime, end: datetime | None = None
    ) -> dict[datetime, float]:
        """A service metric's hourly sums (`service` dimension, as published)."""
        cloudwatch = self.target.client("cloudwatch")
        found: dict[datetime, float] = {}
        arguments: dict[str, Any] = {
            "MetricDataQueries": [
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": METRICS_NAMESPACE,
                            "MetricName": name,
                            "Dimensions": [{"Name": Dimension.SERVICE, "Value": SERVICE_NAME}],
                        },
                        "Period": 3600,
                        "Stat": "Sum",
                    },
                }
            ],
            "StartTime": start.replace(minute=0, second=0, microsecond=0),
            "EndTime": end or self.now,
        }
        while True:
            answer = cloudwatch.get_metric_data(**arguments)
            for result in answer.get("MetricDataResults", []):
                for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                    hour = stamp.astimezone(UTC)
                    found[hour] = found.get(hour, 0.0) + float(value)
            if not answer.get("NextToken"):
                return found
            arguments["NextToken"] = answer["NextToken"]

    def kinds_from_logs(self) -> tuple[dict[str, int], datetime | None]:
        groups = self.report_log_groups()
        if not groups:
            raise Unknown("no postback function found in the stack")
        logs = self.target.client("logs")
        try:
            query_id = logs.start_query(
                logGroupNames=groups,
                startTime=int((self.now - RECENT).timestamp()),
                endTime=int(self.now.timestamp()),
                queryString=KINDS_QUERY,
            )["queryId"]
        except (ClientError, BotoCoreError) as error:
            raise Unknown(f"Logs Insights: {_error_text(error)}") from None
        waited = 0.0
        while True:
            answer = logs.get_query_results(queryId=query_id)
            if answer["status"] == "Complete":
                break
            if answer["status"] in ("Failed", "Cancelled", "Timeout") or (
                waited >= QUERY_WAIT_SECONDS
            ):
                raise Unknown(f"Logs Insights query {answer['status'].lower()}")
            self.wait(1.0)
            waited += 1.0
        kinds: dict[str, int] = {}
        last: datetime | None = None
        for row in answer.get("results", []):
            fields = {cell["field"]: cell["value"] for cell in row}
            kinds[fields.get(LogKey.KIND, "?")] = int(float(fields.get("reports", 0)))
            moment = parse_time(fields.get("lastAt", ""))
            if moment and (last is None or moment > last):
                last = moment
        return kinds, last

    def report_log_groups(self) -> list[str]:
        """The log groups of the stack's functions that receive reports (REPORT_HANDLERS)."""
        groups = []
        for logical_id, function in self.declared("AWS::Lambda::Function").items():
            if function.get("Handler") not in REPORT_HANDLERS:
                continue
            group = (function.get("LoggingConfig") or {}).get("LogGroup")
            if isinstance(group, dict) and "Ref" in group:
                name = self.physical_ids().get(str(group["Ref"]))
            elif isinstance(group, str):
                name = group
            else:
                function_name = self.named(logical_id, function.get("FunctionName"))
                name = f"/aws/lambda/{function_name}" if function_name else None
            if name:
                groups.append(name)
        return groups

    # Archived bodies: refused (rejected/) and not stored (unstored/)

    def archived(self) -> list[Check]:
        if self.target.bucket is None:
            raise Unknown("the target names no bucket")
        since = self.since.isoformat()
        rejected = self.archived_by_day(Prefix.REJECTED)
        unstored = self.archived_by_day(Prefix.UNSTORED)
        checks = [
            Check(
                "refused",
                State.INFO if rejected else State.OK,
                f"{_count(rejected)} in {Prefix.REJECTED} since {since}{_by_day(rejected)}",
                self.commands.make("replay", "archived", "rejected", "--since", since, "--dry-run")
                if rejected
                else None,
                {"since": since, "byDay": _days_json(rejected)},
            )
        ]
        keys = [key for keys in unstored.values() for key in keys]
        waiting = self.not_replayed(keys)
        text = f"{_count(unstored)} in {Prefix.UNSTORED} since {since}{_by_day(unstored)}"
        data = {"since": since, "byDay": _days_json(unstored), "notReplayed": waiting}
        if waiting:
            more = "+" if len(keys) > TAG_READS else ""
            checks.append(
                Check(
                    "unstored",
                    State.ACTION,
                    f"{text}, {waiting}{more} not replayed",
                    self.commands.make("replay", "archived", "unstored", "--since", since),
                    data,
                )
            )
        else:
            replayed = ", all replayed" if keys else ""
            checks.append(Check("unstored", State.OK, text + replayed, data=data))
        waited = self.waited_too_long()
        return [*checks, waited] if waited else checks

    def waited_too_long(self) -> Check | None:
        """A body not yet replayed that has waited in `unstored/` longer than the
        `UnstoredBodiesWaiting` alarm allows, whatever `--since` says: those bodies never expire,
        so the oldest may be far older than the days shown."""
        if self.target.bucket is None:
            return None
        watch = UnstoredWatch(
            S3UnstoredBodies(self.target.service("s3"), self.target.bucket),
            max_checks=TAG_READS,
            clock=lambda: self.now,
        )
        finding = watch.oldest_waiting(deadline=time.monotonic() + WATCH_SECONDS)
        if finding.oldest_key is None or finding.oldest_age_seconds < UNSTORED_ALARM_DAYS * 86400:
            return None
        days = finding.oldest_age_seconds // 86400
        arrived = (self.now - timedelta(seconds=finding.oldest_age_seconds)).date().isoformat()
        return Check(
            "unstored age",
            State.ACTION,
            f"a body not replayed has waited {days} days ({finding.oldest_key})",
            self.commands.make("replay", "archived", "unstored", "--since", arrived),
            {"oldestKey": finding.oldest_key, "ageSeconds": finding.oldest_age_seconds},
        )

    def archived_by_day(self, prefix: str) -> dict[date, list[str]]:
        s3 = self.target.client("s3")
        found: dict[date, list[str]] = {}
        each = self.since
        while each <= self.now.date():
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.target.bucket, Prefix=f"{prefix}{each:%Y/%m/%d}/"
            )
            keys = [entry["Key"] for page in pages for entry in page.get("Contents", [])]
            if keys:
                found[each] = keys
            each += timedelta(days=1)
        return found

    def not_replayed(self, keys: Sequence[str]) -> int:
        """How many of the (first TAG_READS) keys the replay tool has not tagged `replayed`."""
        s3 = self.target.client("s3")
        waiting = 0
        for key in keys[:TAG_READS]:
            tags = s3.get_object_tagging(Bucket=self.target.bucket, Key=key).get("TagSet", [])
            if not any(tag["Key"] == ArchiveTag.REPLAYED for tag in tags):
                waiting += 1
        return waiting

    # Recordings

    def recordings(self) -> list[Check]:
        queued = self.queued_jobs()
        if self.target.local:
            return self.recordings_from_table(queued)
        return self.recordings_from_cloudwatch(queued)

    def queued_jobs(self) -> int | None:
        if not self.target.recordings_queue:
            return None
        attributes = (
            self.target.client("sqs")
            .get_queue_attributes(
                QueueUrl=self.target.recordings_queue,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )
            .get("Attributes", {})
        )
        return sum(int(value) for value in attributes.values())

    def recordings_from_table(self, queued: int | None) -> list[Check]:
        states: Counter[str] = Counter()
        for item in self.call_items():
            for entry in item.get(CallAttribute.RECORDINGS, []):
                states[str(entry.get(RecordingEntry.STATUS))] += 1
        pending, failed = states[RecordingStatus.PENDING], states[RecordingStatus.FAILED]
        data = {
            "pending": pending,
            "failed": failed,
            "copied": states[RecordingStatus.COPIED],
            "queued": queued,
        }
        checks = []
        if pending and not queued:
            checks.append(
                Check(
                    "recordings",
                    State.ACTION,
                    f"{pending} PENDING with no copy job queued",
                    self.commands.make("replay", "recordings"),
                    data,
                )
            )
        if failed:
            checks.append(
                Check(
                    "recordings",
                    State.ACTION,
                    f"{failed} FAILED (see why: "
                    f"{self.commands.make('query', 'failed-recordings')})",
                    self.commands.make("replay", "recordings", "--include-failed"),
                    data,
                )
            )
        in_queue = f" ({queued} copy jobs queued)" if pending and queued else ""
        return checks or [
            Check("recordings", State.OK, f"{pending} PENDING{in_queue}, 0 FAILED", data=data)
        ]

    def recordings_from_cloudwatch(self, queued: int | None) -> list[Check]:
        """On AWS: the recordings queue, and the metrics since --since (no table is scanned)."""
        since = datetime.combine(self.since, datetime.min.time(), UTC)
        failed = int(sum(self.metric_hours(Metric.RECORDINGS_FAILED, since).values()))
        unqueued = int(sum(self.metric_hours(Metric.RECORDINGS_NOT_QUEUED, since).values()))
        day_text = self.since.isoformat()
        data = {"queued": queued, "failedSince": failed, "notQueuedSince": unqueued}
        jobs = f"{queued if queued is not None else 'unknown'} copy jobs queued"
        checks = []
        if unqueued:
            checks.append(
                Check(
                    "recordings",
                    State.ACTION,
                    f"{unqueued} left PENDING, not queued, since {day_text} "
                    f"({Metric.RECORDINGS_NOT_QUEUED}); {jobs}",
                    self.commands.make("replay", "recordings"),
                    data,
                )
            )
        if failed:
            checks.append(
                Check(
                    "recordings",
                    State.ACTION,
                    f"{failed} FAILED since {day_text} ({Metric.RECORDINGS_FAILED}; see why: "
                    f"{self.commands.make('query', 'failed-recordings')})",
                    self.commands.make("replay", "recordings", "--include-failed"),
                    data,
                )
            )
        return checks or [
            Check(
                "recordings",
                State.OK,
                f"PENDING: {jobs}; FAILED: 0 since {day_text} ({Metric.RECORDINGS_FAILED})",
                data=data,
            )
        ]

    def call_items(self) -> Iterator[dict[str, Any]]:
        """Locally: every call item's key, campaign, arrival and recordings (a scan)."""
        return items(
            self.target.client("dynamodb"),
            "scan",
            TableName=self.target.calls_table,
            ProjectionExpression="#c, #e, #k, #t, #r",
            ExpressionAttributeNames={
                "#c": CallsTable.PARTITION_KEY,
                "#e": CallsTable.SORT_KEY,
                "#k": CallAttribute.CAMPAIGN_ID,
                "#t": Item.RECEIVED_AT,
                "#r": CallAttribute.RECORDINGS,
            },
        )

    # Dead-letter queues and alarms

    def dead_letters(self) -> list[Check]:
        queues = dead_letter_queues(self.target)
        if not queues:
            raise Unknown("the target names no dead-letter queue")
        sqs = self.target.client("sqs")
        checks = []
        for name, url in queues.items():
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            ).get("Attributes", {})
            waiting = sum(int(value) for value in attributes.values())
            queue = url.rsplit("/", 1)[-1]
            data = {"name": name, "queueUrl": url, "messages": waiting}
            if waiting and name in EVENTS_DEAD_LETTERS:
                checks.append(
                    Check(
                        "dead letters",
                        State.ACTION,
                        f"{queue}: {waiting} message{'s' if waiting != 1 else ''} (after the "
                        "cause is fixed, publish their events again, within 24 hours)",
                        self.commands.make("replay", "events"),
                        data,
                    )
                )
            elif waiting:
                checks.append(
                    Check(
                        "dead letters",
                        State.ACTION,
                        f"{queue}: {waiting} message{'s' if waiting != 1 else ''} (after the "
                        "cause is fixed, move them back to be tried again)",
                        self.commands.make("replay", "redrive"),
                        data,
                    )
                )
            else:
                checks.append(Check("dead letters", State.OK, f"{queue}: empty", data=data))
        return checks

    def alarms(self) -> list[Check]:
        """Every alarm the stack declares, whichever construct added it."""
        if self.target.local:
            raise Unknown("the local system runs no CloudWatch alarms")
        names = sorted(
            name
            for kind in ALARM_TYPES
            for logical_id, alarm in self.declared(kind).items()
            if (name := self.named(logical_id, alarm.get("AlarmName")))
        )
        if not names:
            return [Check("alarms", State.INFO, "the stack has no alarm")]
        cloudwatch = self.target.client("cloudwatch")
        alarms: list[dict[str, Any]] = []
        for start in range(0, len(names), 100):
            answer = cloudwatch.describe_alarms(
                AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
            )
            alarms += answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", [])
        states = Counter(str(alarm["StateValue"]) for alarm in alarms)
        raised = [alarm for alarm in alarms if alarm["StateValue"] == "ALARM"]
        summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
        checks = [
            Check(
                "alarms",
                State.ACTION if raised else State.OK,
                f"{len(alarms)} alarms: {summary}",
                data={"states": dict(states)},
            )
        ]
        return checks + [self.raised(alarm) for alarm in raised]

    def raised(self, alarm: Mapping[str, Any]) -> Check:
        """An alarm in ALARM: since when, the first sentence of what it says, and the command
        that acts when one does."""
        name = str(alarm["AlarmName"])
        since = alarm.get("StateUpdatedTimestamp")
        description = str(alarm.get("AlarmDescription") or "")
        first = description.split(". ", 1)[0].rstrip(".")
        command = next(
            (
                self.commands.make(*arguments)
                for ending, arguments in self.alarm_commands().items()
                if name.endswith(ending)
            ),
            None,
        )
        return Check(
            "alarm",
            State.ACTION,
            f"{name}" + (f" since {when(since, self.now)}" if since else "") + f": {first}",
            command,
            {
                "name": name,
                "since": since.isoformat() if since else None,
                "reason": alarm.get("StateReason"),
                "description": description,
            },
        )

    def alarm_commands(self) -> dict[str, tuple[str, ...]]:
        """The command for an alarm, by how its name ends (`CallfireReceiver-<stage>-<path>`)."""
        since = ("--since", self.since.isoformat())
        return {
            SILENCE_ALARM: ("smoke",),
            Metric.REPORTS_UNAVAILABLE: ("replay", "archived", "unstored", *since),
            Metric.REPORTS_FAILED: ("replay", "archived", "unstored", *since),
            Metric.RECORDINGS_NOT_QUEUED: ("replay", "recordings"),
            EVENTS_DEAD_LETTER_ALARM: ("replay", "events"),
            DEAD_LETTER_ALARM: ("replay", "redrive"),
        }


def _subscriptions(endpoints: Sequence[str]) -> str:
    """`callfinish, campaignfinish (account-wide)` for `callfinish (account-wide)`,
    `campaignfinish (account-wide)`: each scope once."""
    by_scope: dict[str, list[str]] = {}
    for endpoint in endpoints:
        kind, _, scope = str(endpoint).partition(" ")
        by_scope.setdefault(scope, []).append(kind)
    joined = [f"{', '.join(kinds)} {scope}".strip() for scope, kinds in by_scope.items()]
    return "; ".join(joined) or "nothing"


def _count(found: Mapping[date, list[str]]) -> str:
    total = sum(len(keys) for keys in found.values())
    return f"{total} bod{'y' if total == 1 else 'ies'}"


def _by_day(found: Mapping[date, list[str]]) -> str:
    if not found:
        return ""
    return (
        " (" + ", ".join(f"{each:%m-%d}: {len(keys)}" for each, keys in sorted(found.items())) + ")"
    )


def _days_json(found: Mapping[date, list[str]]) -> dict[str, int]:
    return {each.isoformat(): len(keys) for each, keys in sorted(found.items())}


def _error_text(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return str(error) or type(error).__name__


def parser() -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(
        prog="python -m tools.status",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_target_arguments(arguments)
    arguments.add_argument(
        "--since",
        type=day,
        default=None,
        metavar="YYYY-MM-DD",
        help=f"archived bodies and failed recordings since (default: {DEFAULT_DAYS} days ago)",
    )
    arguments.add_argument("--json", action="store_true", help="print JSON, for scripts")
    return arguments


def main(argv: list[str] | None = None, now: datetime | None = None) -> int:
    arguments = parser()
    options = arguments.parse_args(argv)
    moment = now or datetime.now(UTC)
    since = options.since or (moment - timedelta(days=DEFAULT_DAYS)).date()
    if since > moment.date():
        arguments.error(f"--since {since} is in the future")
    try:
        target = chosen_target(options)
    except (TargetError, ClientError, BotoCoreError) as error:
        print(f"status failed: {error}", file=sys.stderr)
        return 2
    checks = list(Status(target, options, since=since, now=moment).checks())
    needs_action = any(check.state is State.ACTION for check in checks)
    if options.json:
        print(
            json.dumps(
                {
                    "target": target.description,
                    "stack": target.stack_name,
                    "stage": target.stage,
                    "at": moment.isoformat(),
                    "since": since.isoformat(),
                    "needsAction": needs_action,
                    "checks": [check.as_json() for check in checks],
                },
                indent=2,
                default=str,
            )
        )
        return 0
    print(f"CallFire receiver status at {moment:%Y-%m-%d %H:%M} UTC")
    for check in checks:
        print("\n".join(check.lines()))
    print("Needs a person: see the ACTION lines." if needs_action else "Nothing needs a person.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
