"""`make status ARGS=--aws` against moto: a CloudFormation stack whose outputs name this test's
tables, bucket and queues, whose template holds the synthesized stack's alarms (moto's
CloudFormation creates no alarm, so they are put into moto's CloudWatch from the same
properties), and metrics put as the functions would publish them. What moto cannot answer (Logs
Insights: the stack holds no postback function here) must show as unknown; each line that needs
action names a command, and the commands are run as printed."""

from __future__ import annotations

import io
import json
import shlex
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from functions.adapters.archive import S3BodyArchive
from functions.adapters.aws import AwsService
from functions.names import (
    METRICS_NAMESPACE,
    SERVICE_NAME,
    Dimension,
    Handler,
    Metric,
    Output,
    Prefix,
    StatusObject,
    SubscriptionResource,
)
from functions.names import RegistrationRecord as Record
from local.resources import LocalResources
from tests.helpers import REGION, event_body
from tests.infra.test_stack import resources_of
from tools import replay, status
from tools.target import Target

NOW = datetime.now(UTC)


@dataclass
class Stack:
    name: str
    bucket: str
    queue: str
    dead_letters: str
    alarms: dict[str, dict[str, Any]]
    aws: Callable[[str], Any]

    def run(self, *argv: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
        capsys.readouterr()
        assert status.main(["--aws", "--stack", self.name, "--json", *argv]) == 0
        answer: dict[str, Any] = json.loads(capsys.readouterr().out)
        return answer

    def metric(self, name: str, value: float, when: datetime) -> None:
        self.aws("cloudwatch").put_metric_data(
            Namespace=METRICS_NAMESPACE,
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": Dimension.SERVICE, "Value": SERVICE_NAME}],
                    "Value": value,
                    "Timestamp": when,
                }
            ],
        )


def checks(answer: dict[str, Any], topic: str) -> list[dict[str, Any]]:
    return [check for check in answer["checks"] if check["topic"] == topic]


def only(answer: dict[str, Any], topic: str) -> dict[str, Any]:
    (check,) = checks(answer, topic)
    return check


def alarm_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of(template, "AWS::CloudWatch::Alarm")


@pytest.fixture
def stack(
    aws: Callable[[str], Any], template: dict[str, Any], resources: LocalResources
) -> Iterator[Stack]:
    """A deployed stack as the status tool sees it: outputs, a template, alarms, its own bucket
    and queues (so that the counts are this test's)."""
    run = uuid.uuid4().hex[:10]
    name = f"StatusTest-{run}"
    bucket = f"status-{run}"
    aws("s3").create_bucket(Bucket=bucket)
    sqs = aws("sqs")
    dead_letters = sqs.create_queue(QueueName=f"dlq-{run}")["QueueUrl"]
    dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=f"jobs-{run}",
        Attributes={
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": "5"}
            )
        },
    )["QueueUrl"]
    declared = alarm_resources(template)
    alarms = {logical_id: resource["Properties"] for logical_id, resource in declared.items()}
    outputs = resources.outputs()
    body = {
        "Description": template["Description"],
        "Resources": {"Anchor": {"Type": "AWS::SNS::Topic"}, **declared},
        "Outputs": {
            name_: {"Value": value}
            for name_, value in {
                Output.POSTBACK_URL: "https://api.example/postbacks",
                Output.CALLS_TABLE: outputs[Output.CALLS_TABLE],
                Output.CAMPAIGNS_TABLE: outputs[Output.CAMPAIGNS_TABLE],
                Output.BUCKET: bucket,
                Output.RECORDINGS_QUEUE: queue,
                Output.DEAD_LETTER_QUEUE: dead_letters,
                Output.CALLFIRE_SUBSCRIPTION: "Automatic on deploy",
            }.items()
        },
    }
    with pytest.warns(UserWarning, match="AWS::CloudWatch::Alarm"):
        aws("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(body))
    cloudwatch = aws("cloudwatch")
    for properties in alarms.values():
        cloudwatch.put_metric_alarm(
            AlarmName=properties["AlarmName"],
            AlarmDescription=properties["AlarmDescription"],
            MetricName=properties.get("MetricName", "Count"),
            Namespace=properties.get("Namespace", "AWS/ApiGateway"),
            Statistic="Sum",
            Period=int(properties.get("Period", 300)),
            EvaluationPeriods=int(properties["EvaluationPeriods"]),
            Threshold=float(properties["Threshold"]),
            ComparisonOperator=properties["ComparisonOperator"],
        )
    yield Stack(name, bucket, queue, dead_letters, alarms, aws)
    for properties in alarms.values():
        cloudwatch.set_alarm_state(
            AlarmName=properties["AlarmName"], StateValue="OK", StateReason="test over"
        )


def test_status_reads_the_stack_and_says_unknown_where_moto_cannot_answer(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = stack.run(capsys=capsys)

    assert (answer["stack"], answer["stage"]) == (stack.name, "prod")
    assert only(answer, "stack")["state"] == "ok"
    assert "CREATE_COMPLETE" in only(answer, "stack")["text"]
    subscription = only(answer, "subscription")
    assert subscription["state"] == "unknown"
    assert StatusObject.REGISTRATION in subscription["text"]
    recent = only(answer, "last 24 h")
    assert recent["data"]["byKind"] is None, "Logs Insights is not invented"
    assert "by kind unknown: no postback function found in the stack" in recent["text"]
    alarms = only(answer, "alarms")
    assert alarms["text"].startswith(f"{len(stack.alarms)} alarms:")
    assert only(answer, "unstored")["state"] == "ok"
    assert only(answer, "dead letters")["state"] == "ok"


def test_reports_come_from_reports_received_hour_by_hour(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """(moto keeps metrics for the whole session: the counts are compared before and after.)"""
    before = only(stack.run(capsys=capsys), "last 24 h")["data"]["total"]
    stack.metric(Metric.REPORTS_RECEIVED, 5, NOW - timedelta(hours=3))
    stack.metric(Metric.REPORTS_RECEIVED, 2, NOW - timedelta(days=3))

    answer = stack.run(capsys=capsys)

    last = only(answer, "last report")
    assert last["state"] == "ok"
    assert last["data"]["source"] == "ReportsReceived, to the hour"
    assert datetime.fromisoformat(last["data"]["lastReportAt"]) > NOW - timedelta(hours=4)
    assert only(answer, "last 24 h")["data"]["total"] - before == 5


def test_an_alarm_in_alarm_says_what_to_check(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    (silent,) = [p for i, p in stack.alarms.items() if i.startswith("MonitoringReportsSilent")]
    stack.aws("cloudwatch").set_alarm_state(
        AlarmName=silent["AlarmName"], StateValue="ALARM", StateReason="no report for 24 h"
    )

    answer = stack.run(capsys=capsys)

    assert only(answer, "alarms")["state"] == "action"
    (raised,) = checks(answer, "alarm")
    assert raised["data"]["name"] == silent["AlarmName"]
    assert "make smoke" in raised["command"]
    assert answer["needsAction"] is True


def test_dead_letters_are_moved_back_by_the_command_status_prints(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = stack.aws("sqs")
    sqs.send_message(QueueUrl=stack.dead_letters, MessageBody='{"callId": "dead"}')

    before = only(stack.run(capsys=capsys), "dead letters")
    words = shlex.split(before["command"])
    assert words[:2] == ["make", "replay"]
    assert replay.main(shlex.split(words[2].removeprefix("ARGS="))) == 0
    after = only(stack.run(capsys=capsys), "dead letters")

    assert (before["state"], before["data"]["messages"]) == ("action", 1)
    assert (after["state"], after["data"]["messages"]) == ("ok", 0)
    moved = sqs.receive_message(QueueUrl=stack.queue, WaitTimeSeconds=0)["Messages"]
    assert [message["Body"] for message in moved] == ['{"callId": "dead"}']


def test_unstored_bodies_are_replayed_by_the_command_status_prints(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    body = event_body("call_minimal.xml").replace(b"42", uuid.uuid4().hex.encode())
    S3BodyArchive(AwsService.over(stack.aws("s3")), stack.bucket).keep(
        Prefix.UNSTORED,
        body,
        request_id="r1",
        received_at=NOW,
        content_encoding=None,
        reason="ProvisionedThroughputExceededException",
        detail="the report could not be stored",
        deadline=time.monotonic() + 60,
    )

    before = only(stack.run(capsys=capsys), "unstored")
    words = shlex.split(before["command"])
    assert replay.main(shlex.split(words[2].removeprefix("ARGS="))) == 0
    after = only(stack.run(capsys=capsys), "unstored")

    assert (before["state"], before["data"]["notReplayed"]) == ("action", 1)
    assert words[2].startswith("ARGS=--aws --stack")
    assert (after["state"], after["data"]["notReplayed"]) == ("ok", 0)
    assert "all replayed" in after["text"]


def test_failed_recordings_come_from_the_metric_since_the_date(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    before = stack.run(capsys=capsys)["checks"]
    (counted,) = {c["data"]["failedSince"] for c in before if c["topic"] == "recordings"}
    stack.metric(Metric.RECORDINGS_FAILED, 2, NOW - timedelta(days=2))
    stack.metric(Metric.RECORDINGS_FAILED, 7, NOW - timedelta(days=20))

    answer = stack.run(capsys=capsys)
    since_yesterday = stack.run(
        "--since", (NOW - timedelta(days=1)).date().isoformat(), capsys=capsys
    )

    (failed,) = [c for c in checks(answer, "recordings") if "FAILED" in c["text"]]
    assert failed["state"] == "action"
    assert failed["data"]["failedSince"] - counted == 2
    assert "--include-failed" in failed["command"]
    assert checks(since_yesterday, "recordings")[0]["state"] == "ok"


def test_a_failed_subscription_says_how_to_subscribe_again(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    record = {
        Record.AT: "2026-11-29T10:00:00.000Z",
        Record.RESULT: Record.FAILED,
        Record.REQUEST_TYPE: "Update",
        Record.SUBSCRIPTIONS: [],
        Record.MESSAGE: "CallFire answered HTTP 401",
        Record.FUNCTION: "StatusTest-RegistrationHandler",
        Record.PROPERTIES: {SubscriptionResource.POSTBACK_URL: "https://api.example/postbacks"},
    }
    stack.aws("s3").put_object(
        Bucket=stack.bucket, Key=StatusObject.REGISTRATION, Body=json.dumps(record).encode()
    )

    subscription = only(stack.run(capsys=capsys), "subscription")

    assert subscription["state"] == "action"
    assert "CallFire answered HTTP 401" in subscription["text"]
    assert subscription["command"].startswith(
        f"aws lambda invoke --region {REGION} --function-name StatusTest-RegistrationHandler "
    )


def test_a_stack_subscribed_by_hand_says_so(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"{stack.name}-byhand"
    stack.aws("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(
            {
                "Resources": {"Anchor": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {
                    Output.CALLS_TABLE: {"Value": "calls"},
                    Output.CAMPAIGNS_TABLE: {"Value": "campaigns"},
                    Output.BUCKET: {"Value": stack.bucket},
                    Output.SUBSCRIBE_COMMAND: {"Value": "TOKEN=... for ENDPOINT in ..."},
                },
            }
        ),
    )
    capsys.readouterr()
    assert status.main(["--aws", "--stack", name, "--json"]) == 0
    subscription = only(json.loads(capsys.readouterr().out), "subscription")

    assert subscription["state"] == "info"
    assert "by hand" in subscription["text"]
    assert f"--stack-name {name}" in subscription["command"]
    assert Output.SUBSCRIBE_COMMAND in subscription["command"]


def test_the_text_screen_marks_each_line(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    stack.aws("sqs").send_message(QueueUrl=stack.dead_letters, MessageBody="{}")
    capsys.readouterr()

    assert status.main(["--aws", "--stack", stack.name]) == 0
    screen = capsys.readouterr().out.splitlines()

    assert screen[0].startswith("CallFire receiver status at ")
    (dead,) = [line for line in screen if "dead letters" in line]
    assert dead.split()[0] == "ACTION"
    command = screen[screen.index(dead) + 1].strip()
    assert command == f'-> make replay ARGS="--aws --stack {stack.name} redrive"'
    (recent,) = [line for line in screen if "last 24 h" in line]
    assert "by kind unknown" in recent
    assert screen[-1] == "Needs a person: see the ACTION lines."


class TemplateStack:
    """CloudFormation's answers for a stack deployed from `template`, each resource named
    `physical-<logical id>`: what discovery reads (moto cannot create the real template)."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template

    def get_template(self, StackName: str) -> dict[str, Any]:
        return {"TemplateBody": self.template}

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_stack_resources"
        summaries = [
            {
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": f"physical-{logical_id}",
                "ResourceType": resource["Type"],
            }
            for logical_id, resource in self.template["Resources"].items()
        ]

        class Pages:
            def paginate(self, StackName: str) -> list[dict[str, Any]]:
                return [{"StackResourceSummaries": summaries}]

        return Pages()


def test_discovery_finds_the_postback_log_group_and_every_alarm_in_the_real_template(
    template: dict[str, Any],
) -> None:
    cloudformation = TemplateStack(template)

    class Session:
        region_name = REGION

        def client(self, service: str, endpoint_url: str | None = None) -> Any:
            assert service == "cloudformation"
            return cloudformation

    target = Target(
        session=Session(),
        endpoint_url=None,
        calls_table="calls",
        campaigns_table="campaigns",
        bucket=None,
        recordings_queue=None,
        description="the synthesized template",
        stack_name="CallfireReceiver",
    )
    found = status.Status(target, status.parser().parse_args(["--aws"]), since=NOW.date())
    (postback_id,) = [
        logical_id
        for logical_id, resource in resources_of(template, "AWS::Lambda::Function").items()
        if resource["Properties"].get("Handler") == Handler.POSTBACK
    ]
    log_group = template["Resources"][postback_id]["Properties"]["LoggingConfig"]["LogGroup"]

    assert found.report_log_groups() == [f"physical-{log_group['Ref']}"]
    assert {
        found.named(logical_id, alarm.get("AlarmName"))
        for logical_id, alarm in found.declared("AWS::CloudWatch::Alarm").items()
    } == {p["Properties"]["AlarmName"] for p in alarm_resources(template).values()}
    assert len(alarm_resources(template)) >= 10


class ScriptedLogsInsights:
    """Logs Insights' answers, as GetQueryResults documents them: `status`, and `results` as rows
    of `{"field", "value"}` cells (values are strings)."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.started: list[dict[str, Any]] = []

    def start_query(self, **arguments: Any) -> dict[str, str]:
        self.started.append(arguments)
        return {"queryId": "q1"}

    def get_query_results(self, queryId: str) -> dict[str, Any]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def status_with(
    template: dict[str, Any], logs: ScriptedLogsInsights
) -> tuple[status.Status, list[float]]:
    """The status of a stack deployed from `template`, and the pauses it made."""
    clients = {"cloudformation": TemplateStack(template), "logs": logs}

    class Session:
        region_name = REGION

        def client(self, service: str, endpoint_url: str | None = None) -> Any:
            return clients[service]

    target = Target(
        session=Session(),
        endpoint_url=None,
        calls_table="calls",
        campaigns_table="campaigns",
        bucket=None,
        recordings_queue=None,
        description="scripted",
        stack_name="CallfireReceiver",
    )
    waits: list[float] = []
    found = status.Status(
        target, status.parser().parse_args(["--aws"]), since=NOW.date(), now=NOW, wait=waits.append
    )
    return found, waits


def test_the_split_by_kind_is_read_from_logs_insights_rows(template: dict[str, Any]) -> None:
    rows = [
        [
            {"field": "kind", "value": "call"},
            {"field": "reports", "value": "7"},
            {"field": "lastAt", "value": "2026-11-29 09:58:01.250"},
        ],
        [
            {"field": "kind", "value": "campaign"},
            {"field": "reports", "value": "1"},
            {"field": "lastAt", "value": "2026-11-29 08:00:00.000"},
        ],
    ]
    logs = ScriptedLogsInsights({"status": "Running"}, {"status": "Complete", "results": rows})
    found, waits = status_with(template, logs)

    kinds, last = found.kinds_from_logs()

    assert kinds == {"call": 7, "campaign": 1}
    assert last == datetime(2026, 11, 29, 9, 58, 1, 250000, tzinfo=UTC)
    (started,) = logs.started
    assert started["queryString"] == status.KINDS_QUERY
    assert started["endTime"] - started["startTime"] == 24 * 3600
    assert waits == [1.0]


def test_a_query_that_does_not_finish_in_time_is_unknown(template: dict[str, Any]) -> None:
    found, waits = status_with(template, ScriptedLogsInsights({"status": "Running"}))

    with pytest.raises(status.Unknown, match="Logs Insights query running"):
        found.kinds_from_logs()
    assert len(waits) == status.QUERY_WAIT_SECONDS


def test_redrive_moves_back_only_what_has_one_source_and_a_dry_run_moves_nothing(
    stack: Stack,
) -> None:
    sqs = stack.aws("sqs")
    orphan = sqs.create_queue(QueueName=f"orphan-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for url in (stack.dead_letters, orphan):
        sqs.send_message(QueueUrl=url, MessageBody="job")
    target = Target(
        session=boto3.session.Session(region_name=REGION),
        endpoint_url=None,
        calls_table="calls",
        campaigns_table="campaigns",
        bucket=None,
        recordings_queue=None,
        description="moto",
        stack_name=stack.name,
        outputs={
            Output.DEAD_LETTER_QUEUE: stack.dead_letters,
            f"Events{Output.DEAD_LETTER_QUEUE}": orphan,
            Output.RECORDINGS_QUEUE: stack.queue,
        },
    )

    def quiet(label: str, total: int) -> replay.Progress:
        return replay.Progress(label, total, stream=io.StringIO())

    predicted = replay.redrive(target, dry_run=True, progress=quiet)
    done = replay.redrive(target, progress=quiet)

    assert predicted == {"would move back": 1, "no single source queue (left alone)": 1}
    assert done == {"moved back": 1, "no single source queue (left alone)": 1}
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=stack.queue)["Messages"]] == ["job"]
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=orphan)["Messages"]] == ["job"]


def test_a_body_waiting_in_unstored_past_the_alarm_s_days_needs_a_person(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """`unstored/` never expires by age, so the oldest body can be older than any `--since`; the
    status says so from the seventh day, as the `UnstoredBodiesWaiting` alarm does."""
    key = S3BodyArchive(AwsService.over(stack.aws("s3")), stack.bucket).keep(
        Prefix.UNSTORED,
        event_body("call_minimal.xml"),
        request_id=f"waits-{uuid.uuid4().hex[:8]}",
        received_at=NOW,
        content_encoding=None,
        reason="ProvisionedThroughputExceededException",
        detail="the report could not be stored",
        deadline=time.monotonic() + 60,
    )
    arrived = stack.aws("s3").head_object(Bucket=stack.bucket, Key=key)["LastModified"]
    try:
        soon_after = status_at(stack, arrived + timedelta(days=2), capsys)
        much_later = status_at(stack, arrived + timedelta(days=8), capsys)
    finally:
        versions = stack.aws("s3").list_object_versions(Bucket=stack.bucket, Prefix=key)
        for version in versions.get("Versions", []):
            stack.aws("s3").delete_object(
                Bucket=stack.bucket, Key=key, VersionId=version["VersionId"]
            )

    assert checks(soon_after, "unstored age") == []
    waited = only(much_later, "unstored age")
    assert waited["state"] == "action"
    assert waited["data"]["oldestKey"] == key
    assert waited["data"]["ageSeconds"] == 8 * 86400
    assert "replay" in waited["command"]
    assert "unstored" in waited["command"]


def status_at(stack: Stack, now: datetime, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert status.main(["--aws", "--stack", stack.name, "--json"], now=now) == 0
    answer: dict[str, Any] = json.loads(capsys.readouterr().out)
    return answer
