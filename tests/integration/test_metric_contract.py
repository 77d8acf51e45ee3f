"""The metric contract: what the functions publish is what the alarms and the dashboard read.

moto checks no metric: a dashboard widget that searches a dimension set no code publishes stays
empty on AWS, and an alarm on a metric nobody emits never fires. Here the real handlers are run
through every outcome (each postback status and refusal reason, each recording result), the
Embedded Metric Format records they print are captured, and they are compared with
`functions/names.py` METRIC_DIMENSION_SETS (what we declare we publish, and pay for) and with every
metric an alarm or a widget of the synthesized template reads, and every Logs Insights query a
widget runs. EMF: "Every DimensionSet used creates a new metric in CloudWatch"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).

A new outcome, function or metric needs a scenario below: the coverage checks fail until then.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.names import (
    METRIC_DIMENSION_SETS,
    METRICS_NAMESPACE,
    Env,
    Handler,
    LogKey,
    Metric,
    Prefix,
)
from functions.postback import body as body_module
from functions.postback.delivery import EventResult
from functions.postback.service import Status
from functions.postback.webhooks import DeliveryStatus
from functions.recordings.jobs import jobs_for
from functions.recordings.service import CopyResult
from functions.reports import CallReport, EventType, RejectReason
from functions.webhook_registration.spec import desired_webhooks
from infra.stack import STACK_NAME
from local.callfire import LOCAL_PASSWORD, LOCAL_USERNAME, Canned
from local.faults import failing
from local.invoke import LocalLambdaContext, lambda_context, load_handler, reset_function_state
from local.resources import ACCOUNT_ID, LocalResources
from tests.events_out import stream_record
from tests.helpers import REGION, event_body, later, recording_queue, v2_body, v2_event
from tests.infra.deployed import Deployed
from tests.infra.iam_policy import Principal, Request, evaluate
from tests.infra.metric_reads import (
    AWS_PUBLISHED,
    LogQuery,
    MetricRead,
    function_log_groups,
    log_queries,
    metric_reads,
)
from tests.integration.aws_requests import (
    Call,
    authorizations,
    created_locally,
    of_the_template,
    recording,
    role_statements,
)
from tests.integration.conftest import PostbackClient, WebhookClient
from tests.integration.test_postback_handler import unique
from tests.integration.test_recordings_handler import (  # noqa: F401 - fixtures used by name
    API_KEY,
    WAV_PATH,
    Recordings,
    recordings,
    servers,
)
from tools.smoke import smoke_report
from tools.smoke import v2_delivery as smoke_delivery
from tools.status import KINDS_QUERY

Published = tuple[str, str, frozenset[tuple[str, str]]]


@pytest.fixture(scope="module")
def api_key_arn(aws: Callable[[str], Any]) -> str:
    """The recordings harness's API key secret, under a name of this module's own (moto's
    state is shared by the session)."""
    name = "metric-contract/callfire-api-key"
    aws("secretsmanager").create_secret(Name=name, SecretString=API_KEY)
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}"


"""(namespace, metric name, the dimensions with their values) as CloudWatch would store it."""


@dataclass
class Emitted:
    """What each function printed while the scenarios ran, by handler."""

    blobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    log_lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    covered: set[object] = field(default_factory=set)
    requests: dict[str, list[Call]] = field(default_factory=dict)
    """The AWS calls each handler made (tests/integration/aws_requests.py)."""

    def published(self) -> set[Published]:
        return {item for blobs in self.blobs.values() for blob in blobs for item in published(blob)}

    def lines(self, handler: str) -> list[dict[str, Any]]:
        return self.blobs.get(handler, []) + self.log_lines.get(handler, [])


def published(blob: dict[str, Any]) -> Iterator[Published]:
    """Each metric an EMF record creates: one per metric name and dimension set."""
    for directive in blob["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            dimensions = frozenset((name, str(blob[name])) for name in dimension_set)
            for metric in directive["Metrics"]:
                yield directive["Namespace"], metric["Name"], dimensions


class Capture:
    def __init__(self, capsys: pytest.CaptureFixture[str], log_output: list[str]) -> None:
        self._capsys = capsys
        self._log_output = log_output
        self.emitted = Emitted()

    def take(self, handler: str) -> list[dict[str, Any]]:
        """The EMF records and log lines printed since the last take, filed under `handler`."""
        records = [json.loads(line) for line in self._capsys.readouterr().out.splitlines()]
        blobs = [record for record in records if "_aws" in record]
        self.emitted.blobs.setdefault(handler, []).extend(blobs)
        lines = [json.loads(line) for line in self._log_output]
        self._log_output.clear()
        self.emitted.log_lines.setdefault(handler, []).extend(lines)
        return blobs


def metric_names(blobs: list[dict[str, Any]]) -> set[str]:
    return {name for blob in blobs for _, name, _ in published(blob)}


def refused_bodies(max_body_bytes: int) -> dict[RejectReason, tuple[bytes, int]]:
    """A body refused for each reason, and its answer's status (docs/contract.md, section 1)."""
    too_large = b"<call-finished>" + b" " * max_body_bytes + b"</call-finished>"
    return {
        RejectReason.TOO_LARGE: (too_large, 413),
        RejectReason.NOT_WELL_FORMED: (b"<call-finished><callid>1</call", 400),
        RejectReason.FORBIDDEN_XML: (event_body("xxe_file.xml"), 400),
        RejectReason.UNKNOWN_REPORT: (event_body("unknown_root.xml"), 422),
    }


def drive_postback(
    postback: PostbackClient, capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every postback outcome, through the real handler; each asserts its answer first."""

    def outcome(covers: object, body: bytes, status: int, *, token: str | None = "") -> set[str]:
        answer = postback.post(body, token=token)
        assert answer.status == status, (covers, answer.body)
        capture.emitted.covered.add(covers)
        return metric_names(capture.take(Handler.POSTBACK))

    call, _ = unique(event_body("call_finished.xml"))
    assert Metric.RECORDINGS_QUEUED in outcome(Status.STORED, call, 200)
    for sample in ("text_sent.xml", "text_reply.xml"):
        outcome(Status.STORED, unique(event_body(sample))[0], 200)
    campaign = event_body("campaign_finished.xml").replace(b"22222", unique(b"1")[1].encode())
    outcome(Status.STORED, campaign, 200)
    smoke = smoke_report(unique(b"1")[1], datetime.now(UTC)).body
    for status in (Status.STORED, Status.DUPLICATE):
        counted = outcome(status, smoke, 200)
        assert Metric.REPORTS_RECEIVED not in counted, "a smoke test would hide CallFire's silence"
        assert counted, "the smoke test's answer is still counted by its outcome"
    outcome(Status.DUPLICATE, call, 200)
    outcome(Status.CONFLICT, call.replace(b"TRANSFER", b"BUSY"), 200)
    outcome(Status.FORBIDDEN, call, 403, token="not-the-token")
    limit = int(postback.function.environment[Env.MAX_BODY_BYTES])
    for reason, (body, status) in refused_bodies(limit).items():
        outcome(Status.REJECTED, body, status)
        capture.emitted.covered.add(reason)
    with failing("sqs", "SendMessageBatch"):
        assert Metric.RECORDINGS_NOT_QUEUED in outcome(
            "recordings not queued", unique(event_body("call_finished.xml"))[0], 200
        )
    with failing("dynamodb", "PutItem", "ProvisionedThroughputExceededException"):
        outcome(Status.UNAVAILABLE, unique(event_body("call_minimal.xml"), b"42")[0], 503)

    def broken(_: Any) -> Any:
        raise RuntimeError("a bug in the parser")

    with monkeypatch.context() as patch:
        patch.setattr(body_module, "read_report", broken)
        outcome(Status.FAILED, unique(event_body("call_minimal.xml"), b"42")[0], 500)


def drive_recordings(recordings: Recordings, capture: Capture) -> None:  # noqa: F811
    """Every recording result, through the real handler fed by the emulated event source."""

    def delivered(covers: CopyResult, *, retried: bool) -> None:
        delivery = recordings.deliver()
        assert bool(delivery.failed_ids) is retried, covers
        capture.emitted.covered.add(covers)
        capture.take(Handler.RECORDINGS)

    report = recordings.report_call(recordings.callfire.url + WAV_PATH.format(id=21))
    delivered(CopyResult.COPIED, retried=False)
    queue = recording_queue(recordings.aws, recordings.consumer.queue_url)
    queue.enqueue(jobs_for(report), deadline=later())
    delivered(CopyResult.ALREADY_COPIED, retried=False)
    recordings.callfire.answer("GET", "/r/gone", Canned(status=404))
    recordings.report_call(recordings.callfire.url + "/r/gone")
    delivered(CopyResult.FAILED, retried=False)
    recordings.callfire.answer("GET", "/r/busy", Canned(status=503))
    recordings.report_call(recordings.callfire.url + "/r/busy")
    delivered(CopyResult.RETRYING, retried=True)
    gone = CallReport(
        call_id="no-such-call",
        event_type=EventType.CALL,
        recording_urls=(recordings.callfire.url + WAV_PATH.format(id=22),),
    )
    queue.enqueue(jobs_for(gone), deadline=later())
    delivered(CopyResult.SKIPPED, retried=False)
    recordings.aws("sqs").send_message(
        QueueUrl=recordings.consumer.queue_url, MessageBody='{"callId": "1"}'
    )
    delivered(CopyResult.MALFORMED, retried=True)


def drive_events(
    resources: LocalResources, capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every events outcome, through the real handler with stream records as Lambda hands them
    over: published; not published (the bus unavailable); published with attributes left out."""
    function = resources.function_for_handler(Handler.EVENTS)
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(Env.EVENTS_RETRY_SECONDS, "0")
    reset_function_state(keep_clients=True)
    handler = load_handler(function.handler)
    table = function.environment[Env.CALLS_TABLE]
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}"

    def handled(covers: str, **item: Any) -> set[str]:
        new = {"callId": unique(b"1")[1], "eventType": "call", **item}
        record = stream_record("INSERT", new=new, table_arn=table_arn)
        handler({"Records": [record]}, lambda_context(function, REGION))
        capture.emitted.covered.add(covers)
        return metric_names(capture.take(Handler.EVENTS))

    assert Metric.EVENTS_PUBLISHED in handled("events published")
    with failing("events", "PutEvents"):
        assert Metric.EVENTS_NOT_PUBLISHED in handled("events not published")
    assert Metric.EVENTS_TRIMMED in handled("events trimmed", notes="n" * 300_000)
    reset_function_state(keep_clients=True)


def drive_webhooks(
    webhooks: WebhookClient,
    postback: PostbackClient,
    capture: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every webhook delivery status and event result, through the real handler; and the postback
    that joins a v2 campaign (`updated`)."""

    def outcome(covers: set[object], body: bytes, status: int, **signing: Any) -> set[str]:
        answer = webhooks.post(body, **signing)
        assert answer.status == status, (covers, answer.body)
        capture.emitted.covered.update(covers)
        return metric_names(capture.take(Handler.WEBHOOKS))

    call_id = int(unique(b"1")[1])
    call = v2_event("outbound_call_finished_with_recordings.json", id=call_id)
    names = outcome({DeliveryStatus.ACCEPTED, EventResult.STORED}, v2_body(call), 200)
    assert Metric.RECORDINGS_QUEUED in names
    outcome({EventResult.DUPLICATE}, v2_body(call), 200)
    large = v2_event("outbound_call_finished.json", id=call_id + 2, notes="n" * 100_000)
    outcome({EventResult.STORED}, v2_body(large), 200)  # its event is kept in raw/
    smoke = smoke_delivery(call_id + 1, datetime.now(UTC))
    for result in (EventResult.STORED, EventResult.DUPLICATE):
        counted = outcome({result}, smoke, 200)
        assert Metric.REPORTS_RECEIVED not in counted, "a smoke test would hide CallFire's silence"
        assert counted, "the smoke delivery is still counted by its outcome"
    newer = {**call, "resource": {**call["resource"], "modified": call["resource"]["modified"] + 1}}
    assert Metric.REPORTS_UPDATED in outcome({EventResult.UPDATED}, v2_body(newer), 200)
    older = {**call, "resource": {**call["resource"], "state": "OLDER"}}
    outcome({EventResult.CONFLICT}, v2_body(older), 200)
    low = {"timestamp": 1700000000000 + call_id % 1000, "resourceType": "LowBalance",
           "eventType": "Finished", "resource": {}}  # fmt: skip
    names = outcome({EventResult.KEPT, EventResult.REFUSED}, v2_body(low, 7), 200)
    assert Metric.LOW_BALANCE_EVENTS in names
    outcome({DeliveryStatus.FORBIDDEN}, v2_body(call), 403, signature="forged")
    limit = int(webhooks.function.environment[Env.MAX_BODY_BYTES])
    for reason, body, status in (
        (RejectReason.TOO_LARGE, b'{"events": [], "x": "' + b" " * limit + b'"}', 413),
        (RejectReason.NOT_WELL_FORMED, b"{", 400),
        (RejectReason.NO_EVENTS, b"{}", 400),
        (RejectReason.UNKNOWN_REPORT, b'{"events": []}', 422),
    ):
        outcome({DeliveryStatus.REJECTED, reason}, body, status)
    fresh = v2_event("outbound_call_finished.json", id=call_id + 1)
    with failing("dynamodb", "PutItem", "ProvisionedThroughputExceededException"):
        outcome({DeliveryStatus.UNAVAILABLE}, v2_body(fresh), 503)
    with monkeypatch.context() as patch:
        patch.setattr("functions.postback.webhooks.read_webhook", _broken)
        outcome({DeliveryStatus.FAILED}, v2_body(fresh), 500)
    broadcast = v2_event("call_broadcast_finished.json", id=call_id)
    outcome(set(), v2_body(broadcast), 200)
    legacy = event_body("campaign_finished.xml").replace(b"22222", str(call_id).encode())
    answer = postback.post(legacy)
    assert answer.body["status"] == "updated", answer.body
    capture.emitted.covered.add(Status.UPDATED)
    assert Metric.REPORTS_UPDATED in metric_names(capture.take(Handler.POSTBACK))


def _broken(*_: Any) -> Any:
    raise RuntimeError("a bug in the reader")


def drive_health(
    webhooks: WebhookClient,
    recordings: Recordings,  # noqa: F811
    capture: Capture,
    aws: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hourly webhook check, through its real handler against the stand-in CallFire: one
    webhook missing, found (`WebhooksUnhealthy`) and repaired (`WebhooksRepaired`)."""
    name = "metric-contract/callfire-api-credentials"
    value = json.dumps({"username": LOCAL_USERNAME, "password": LOCAL_PASSWORD})
    aws("secretsmanager").create_secret(Name=name, SecretString=value)
    callback = "https://receiver.example/webhooks"
    for spec in desired_webhooks(STACK_NAME)[1:]:
        recordings.callfire.webhooks[len(recordings.callfire.webhooks) + 1] = {
            "id": len(recordings.callfire.webhooks) + 1,
            **spec.body(callback, webhooks.secret),
        }
    for variable, setting in {
        Env.WEBHOOK_URL: callback,
        Env.WEBHOOK_NAME_PREFIX: STACK_NAME,
        Env.CALLFIRE_V2_BASE_URL: recordings.callfire.url,
        Env.CALLFIRE_API_CREDENTIALS_SECRET_ARN: f"arn:aws:secretsmanager:{REGION}:"
        f"{ACCOUNT_ID}:secret:{name}",
        Env.REPAIR_WEBHOOKS: "true",
        Env.WEBHOOK_SECRET_ARN: webhooks.function.environment[Env.WEBHOOK_SECRET_ARN],
    }.items():
        monkeypatch.setenv(variable, setting)
    reset_function_state(keep_clients=True)
    handler = load_handler(Handler.WEBHOOK_HEALTH)
    result = handler({}, LocalLambdaContext("WebhookHealth", 256, 120, REGION))
    assert len(result["repaired"]) == 1, result
    names = metric_names(capture.take(Handler.WEBHOOK_HEALTH))
    assert {Metric.WEBHOOKS_UNHEALTHY, Metric.WEBHOOKS_REPAIRED} <= names


def drive_unstored_watch(
    resources: LocalResources,
    aws: Callable[[str], Any],
    capture: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The unstored watch with a body waiting (with none it publishes nothing), on a bucket of its
    own: the session's holds other tests' bodies."""
    function = resources.function_for_handler(Handler.UNSTORED_WATCH)
    bucket = f"metric-contract-{uuid.uuid4().hex[:12]}"
    aws("s3").create_bucket(Bucket=bucket)
    aws("s3").put_object(Bucket=bucket, Key=f"{Prefix.UNSTORED}2026/11/28/r.xml", Body=b"<a/>")
    with monkeypatch.context() as patch:
        for name, value in function.environment.items():
            patch.setenv(name, value)
        patch.setenv(Env.BUCKET, bucket)
        reset_function_state(keep_clients=True)
        load_handler(function.handler)({}, lambda_context(function, REGION))
    reset_function_state(keep_clients=True)
    assert metric_names(capture.take(Handler.UNSTORED_WATCH)) == {Metric.OLDEST_UNSTORED_BODY_AGE}


@pytest.fixture(scope="module")
def runs() -> dict[str, Emitted]:
    return {}


@pytest.fixture
def emitted(
    runs: dict[str, Emitted],
    *,
    postback: PostbackClient,
    webhooks: WebhookClient,
    recordings: Recordings,  # noqa: F811
    resources: LocalResources,
    aws: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
    log_output: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Emitted:
    """Every outcome of every function, run once for the module."""
    if "all" not in runs:
        capture = Capture(capsys, log_output)
        capture.take("before")
        with recording(monkeypatch) as requests:
            drive_recordings(recordings, capture)  # first: the postbacks queue jobs of their own
            drive_postback(postback, capture, monkeypatch)
            drive_events(resources, capture, monkeypatch)
            drive_webhooks(webhooks, postback, capture, monkeypatch)
            drive_health(webhooks, recordings, capture, aws, monkeypatch)
            drive_unstored_watch(resources, aws, capture, monkeypatch)
        capture.emitted.requests = requests.calls
        runs["all"] = capture.emitted
    return runs["all"]


@pytest.fixture(scope="module")
def deployed(template: dict[str, Any]) -> Deployed:
    return Deployed(template, STACK_NAME)


ROLE_CHECKED = {Handler.POSTBACK, Handler.WEBHOOKS, Handler.RECORDINGS, Handler.EVENTS}
"""The functions whose every request of the scenarios is checked against their role (the webhook
check runs outside this template's stack here, the unstored watch on a bucket of its own)."""


def test_every_aws_request_of_every_outcome_is_allowed_by_the_function_s_role(
    emitted: Emitted, resources: LocalResources
) -> None:
    """IAM's decision (tests/infra/iam_policy.py) for each request each function made, against
    the identity policy of its role in the template. moto enforces none: a grant missing from a
    role fails only here (the webhooks role could not write a large event to `raw/`)."""
    known = created_locally(resources)
    denied = []
    checked: Counter[str] = Counter()
    for handler, calls in emitted.requests.items():
        statements = role_statements(resources, handler)
        if statements is None:
            continue
        principal = Principal(arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{handler}")
        for service, operation, params in calls:
            for action, resource in authorizations(service, operation, params, REGION):
                if not of_the_template(resource, known):
                    continue
                request = Request(principal, action, resource, {"aws:SecureTransport": True})
                decision = evaluate(request, identity_policy=statements)
                checked[handler] += 1
                if not decision.allowed:
                    denied.append(f"{handler}: {action} on {resource} ({decision.why})")

    assert sorted(set(denied)) == []
    assert set(checked) >= ROLE_CHECKED, checked


def test_the_scenarios_cover_every_outcome(emitted: Emitted) -> None:
    outcomes = {*Status, *RejectReason, *CopyResult, *DeliveryStatus, *EventResult}

    assert outcomes - emitted.covered == set(), "add a scenario for each new outcome"


def test_what_is_published_is_exactly_what_names_declares(emitted: Emitted) -> None:
    declared = {
        (name, frozenset(dimension_set))
        for name, sets in METRIC_DIMENSION_SETS.items()
        for dimension_set in sets
    }
    found = {
        (name, frozenset(key for key, _ in dimensions))
        for _, name, dimensions in emitted.published()
    }

    assert {namespace for namespace, _, _ in emitted.published()} == {METRICS_NAMESPACE}
    assert found - declared == set(), "published but not declared in METRIC_DIMENSION_SETS"
    assert declared - found == set(), "declared, but no outcome publishes it"


def satisfied(read: MetricRead, published: set[Published]) -> bool:
    """A read finds data when some published metric has its namespace, its name (or any, for a
    SEARCH without one) and exactly its dimensions, with the values it names."""
    return any(
        namespace == read.namespace
        and (read.name is None or name == read.name)
        and {key for key, _ in dimensions} == set(read.dimensions)
        and all(read.dimensions[key] in (None, value) for key, value in dimensions)
        for namespace, name, dimensions in published
    )


@pytest.fixture(scope="module")
def deployed_v2(v2_template: dict[str, Any]) -> Deployed:
    """The stack with v2 webhooks registered (and their hourly check, with its alarm)."""
    return Deployed(v2_template, STACK_NAME)


@pytest.mark.parametrize("configuration", ["defaults", "v2"])
def test_every_metric_an_alarm_or_widget_reads_is_published(
    emitted: Emitted, deployed: Deployed, deployed_v2: Deployed, configuration: str
) -> None:
    reads = metric_reads(deployed if configuration == "defaults" else deployed_v2)
    published_metrics = emitted.published()
    ours = [read for read in reads if read.namespace == METRICS_NAMESPACE]

    unread = sorted(
        f"{name} {sorted(dimensions)}"
        for _, name, dimensions in published_metrics
        if not any(satisfied(read, {(METRICS_NAMESPACE, name, dimensions)}) for read in ours)
    )
    print("published, read by no alarm or widget:", *unread, sep="\n  ")
    assert ours, "no alarm or widget reads a custom metric"
    assert [
        f"{read.where}: {read.name} {sorted(read.dimensions)}"
        for read in ours
        if not satisfied(read, published_metrics)
    ] == [], "read, but nothing publishes it"
    assert [
        f"{read.where}: {read.namespace} {read.name} {sorted(read.dimensions)}"
        for read in reads
        if read.namespace != METRICS_NAMESPACE
        and frozenset(read.dimensions)
        not in AWS_PUBLISHED.get(read.namespace, {}).get(read.name or "", frozenset())
    ] == [], "an AWS metric its documentation does not give with these dimensions"


def test_every_log_query_reads_what_its_function_writes(
    emitted: Emitted, deployed: Deployed
) -> None:
    """Each Logs Insights widget reads the log group of a function whose lines carry every field
    it filters on (with the value it compares) and groups by; and so does the status tool's
    query of the postback function's log (`make status ARGS=--aws`)."""
    handlers = function_log_groups(deployed)
    (postback_logs,) = [group for group, handler in handlers.items() if handler == Handler.POSTBACK]
    status_query = LogQuery("tools/status.py KINDS_QUERY", (postback_logs,), KINDS_QUERY)
    problems = []
    for query in [*log_queries(deployed), status_query]:
        lines = [
            line for group in query.log_groups for line in emitted.lines(handlers.get(group, ""))
        ]
        if not lines:
            problems.append(f"{query.where}: reads {query.log_groups}, no function's log group")
            continue
        for name, value in query.compared():
            matching = [line for line in lines if str(line.get(name)) == value]
            if not matching:
                problems.append(f"{query.where}: no line has {name} = {value!r}")
            for grouped in query.grouped_by():
                if not any(grouped in line for line in matching):
                    problems.append(f"{query.where}: lines with {name} = {value!r} lack {grouped}")
        problems += [
            f"{query.where}: no line has {name}"
            for name in query.present()
            if not any(name in line for line in lines)
        ]

    assert problems == []


def test_the_status_tool_counts_by_kind_what_reports_received_counts(emitted: Emitted) -> None:
    """The status tool's split by kind (Logs Insights) counts the EMF records that publish
    `ReportsReceived`, and leaves out the smoke tests' records as the metric does."""
    records = emitted.blobs[Handler.POSTBACK]
    received = [r for r in records if Metric.REPORTS_RECEIVED in metric_names([r])]
    smoke = [r for r in records if r.get(LogKey.SMOKE) is True]
    query = LogQuery("status", (), KINDS_QUERY)
    outcomes = {value for name, value in query.compared() if name == LogKey.OUTCOME}

    assert smoke, "the scenarios send a smoke test"
    assert all(r[LogKey.OUTCOME] in outcomes and LogKey.SMOKE not in r for r in received)
    assert all(r[LogKey.OUTCOME] in outcomes for r in smoke)
    assert not [
        r
        for r in records
        if r.get(LogKey.OUTCOME) in outcomes and LogKey.SMOKE not in r and r not in received
    ], "a record the query would count that ReportsReceived does not"
    assert f"not ispresent({LogKey.SMOKE})" in KINDS_QUERY
    assert query.grouped_by() == [LogKey.KIND]
