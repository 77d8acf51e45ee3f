"""What the stack costs a month, computed from the figures measured in the same run and from what
the synthesized template and `functions/names.py` declare (metrics, alarms, dashboards, secrets,
queues, log groups), never from hand-written counts.

Prices: AWS list prices for us-east-1 (on-demand, no savings plans), as gathered in the project's
research notes; several could only be checked against third-party copies of the pricing pages, so
re-check them before quoting a bill. Each assumption is named where it is used and printed with
the result. Two totals: the list price, and what is billed beyond AWS's always-free tier for an
account that runs nothing else (the 12-month offers of API Gateway and S3 are left out: they end).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from functions.names import METRIC_DIMENSION_SETS, METRICS_NAMESPACE, Dimension, Metric

PRICES = {
    "api_gateway_http_per_million": 1.00,
    "lambda_arm_gb_second": 0.0000133334,
    "lambda_per_million_requests": 0.20,
    "dynamodb_on_demand_per_million_wru": 0.625,
    "dynamodb_on_demand_per_million_rru": 0.125,
    "dynamodb_storage_gb_month": 0.25,
    "dynamodb_provisioned_wcu_hour": 0.00065,
    "sqs_per_million_requests": 0.40,
    "s3_put_per_thousand": 0.005,
    "s3_standard_gb_month": 0.023,
    "cloudwatch_logs_per_gb": 0.50,
    "cloudwatch_logs_storage_gb_month": 0.03,
    "logs_insights_per_gb_scanned": 0.005,
    "cloudwatch_custom_metric_month": 0.30,
    "cloudwatch_alarm_metric_month": 0.10,
    "cloudwatch_dashboard_month": 3.00,
    "secrets_manager_secret_month": 0.40,
    "kms_key_month": 1.00,
    "eventbridge_custom_events_per_million": 1.00,
    "eventbridge_archive_gb_processed": 0.10,
    "eventbridge_archive_gb_month": 0.023,
}

FREE_TIER = {
    "lambda requests": 1_000_000,
    "lambda GB-seconds": 400_000,
    "SQS requests": 1_000_000,
    "custom metrics": 10,
    "alarm metrics": 10,
    "dashboards": 3,
    "CloudWatch Logs GB": 5,
    "DynamoDB storage GB": 25,
}
"""AWS's always-free tier (https://aws.amazon.com/free/, "Always free"), per account and month.
The 5 GB of CloudWatch Logs cover ingestion, storage and Logs Insights scans together; they are
given to ingestion first here. Dashboards are free up to 50 metrics each."""

MIX = {"call_finished": 0.55, "text_sent": 0.20, "text_reply": 0.20, "campaign_finished": 0.05}
"""Assumed share of each kind of report (the load generator sends the same mix)."""

RECORDING_SHARE = 0.2
"""Share of calls with one recording (the issue's assumption: 20% of calls)."""

_VALUES = "values per dimension other than service (kind, reason)"
_API_KEY_SECRET = "your CallFire API key secret (created by hand, referenced by the stack)"  # noqa: S105
_SECRETS_LINE = "Secrets Manager (the stack's secrets and your API key)"

ASSUMPTIONS = {
    "share of calls with one recording": RECORDING_SHARE,
    "AWS latency in the postback function (ms): token cached, one PutItem": 8.0,
    "AWS latency to queue a recording (ms): one SendMessageBatch": 10.0,
    "recordings function: ms per recording (download + upload, 500 kB WAV)": 250.0,
    "recordings function memory (MB)": 512.0,
    "recording messages per recordings invocation": 1.0,
    "recording size (kB)": 500.0,
    "recordings function log bytes per recording (INFO line + EMF record)": 1000.0,
    "Lambda platform log lines per invocation (START/END/REPORT), bytes": 330.0,
    "API Gateway access log line, bytes": 380.0,
    "CloudWatch Logs storage: stored bytes per ingested byte (compressed)": 0.15,
    "DynamoDB storage overhead per item and per index entry, bytes": 100.0,
    "dashboard views a month (each runs every Logs Insights widget once)": 100.0,
    "hours of log each dashboard view scans (its default range)": 6.0,
    "SQS event source: idle ReceiveMessage calls a minute (5 pollers, 20 s long polls)": 15.0,
    _VALUES: 4.0,
    _API_KEY_SECRET: 1.0,
    "peak-to-average traffic, for provisioned DynamoDB capacity": 2.0,
    "stream records per events invocation (one per report at low volume)": 1.0,
    "events function: ms per invocation (one PutEvents)": 40.0,
    "events function memory (MB)": 256.0,
    "events function log bytes per invocation (INFO line + EMF record)": 700.0,
    "event size (kB; each 64 kB is one billed event)": 1.5,
}

HOURS_A_MONTH = 730

EVENTS_PER_REPORT: dict[str, float] = {
    Metric.REPORTS_RECEIVED: 0.99,
    Metric.REPORTS_STORED: 0.95,
    Metric.REPORTS_DUPLICATE: 0.04,
    Metric.REPORTS_CONFLICTING: 0.0001,
    Metric.REQUESTS_FORBIDDEN: 0.001,
    Metric.REPORTS_REFUSED: 0.001,
    Metric.REPORTS_UNAVAILABLE: 0.0001,
    Metric.REPORTS_FAILED: 0.00001,
    Metric.RECORDINGS_QUEUED: MIX["call_finished"] * RECORDING_SHARE,
    Metric.RECORDINGS_NOT_QUEUED: 0.00001,
    Metric.RECORDINGS_COPIED: MIX["call_finished"] * RECORDING_SHARE,
    Metric.RECORDING_BYTES_COPIED: MIX["call_finished"] * RECORDING_SHARE,
    Metric.RECORDINGS_ALREADY_COPIED: 0.001,
    Metric.RECORDINGS_RETRIED: 0.002,
    Metric.RECORDINGS_FAILED: 0.001,
    Metric.RECORDINGS_SKIPPED: 0.0001,
    Metric.RECORDING_JOBS_MALFORMED: 0.0,
    Metric.EVENTS_PUBLISHED: 1.0,
    Metric.EVENTS_NOT_PUBLISHED: 0.0001,
    Metric.EVENTS_TRIMMED: 0.00001,
    Metric.REPORTS_UPDATED: 0.001,
    Metric.EVENTS_KEPT: 0.0,
    Metric.LOW_BALANCE_EVENTS: 0.0,
    Metric.WEBHOOKS_UNHEALTHY: 0.0,
    Metric.WEBHOOKS_REPAIRED: 0.0,
    Metric.OLDEST_UNSTORED_BODY_AGE: (0.0001 + 0.00001) * 24,
}
"""How often each metric gets a data point, per report (assumed). A custom metric is billed for
each hour it receives data, so at low volume the rare ones cost a fraction of $0.30. A metric
declared in names.py but not here is counted as receiving data every hour, even idle. The model
prices the legacy postbacks: v2 webhook events of other resource types (EventsKept,
LowBalanceEvents) do not come with postbacks, and the hourly webhook check (WebhooksUnhealthy, one
data point an hour: $0.30 a month) runs only with `callfireApi` v2 or both. The unstored watch
publishes once an hour while a body answered 503 or 500 waits: assumed a day each."""

VOLUMES = {
    "idle": 0,
    "10 thousand": 10_000,
    "100 thousand": 100_000,
    "1 million": 1_000_000,
    "100 million": 100_000_000,
}
"""Reports a month."""

GOALS = {
    "all-in at 100 thousand reports a month": 2.00,
    "idle, beyond the free tier": 1.00,
    "per million at 100 million reports a month, fixed and per-report lines": 4.00,
}
"""The per-million goal counts what handling the reports costs (fixed and per-report lines);
storage is shown apart: it depends on how long you keep the data."""


@dataclass(frozen=True)
class Measured:
    handler_us: dict[str, float]
    """Warm handler time per report, in-memory clients (the warm-request row)."""
    item_bytes: dict[str, int]
    index_entries: dict[str, int]
    index_bytes: dict[str, int]
    log_bytes: dict[str, int]
    """What the postback handler prints per report at the deployed log level."""
    memory_mb: int
    quiet_log_bytes: dict[str, int] = field(default_factory=dict)
    """The same at log level WARNING (the `logLevel` trade-off)."""


@dataclass(frozen=True)
class Inventory:
    """What the synthesized template and names.py declare that AWS bills by the month."""

    custom_metrics: tuple[tuple[str, tuple[str, ...]], ...]
    alarm_metrics: int
    dashboards: int
    dashboard_metrics: int
    log_widgets: int
    secrets: int
    kms_keys: int
    sqs_event_sources: int
    log_retention_days: int
    throttle_alarms: int = 0
    """Alarms on a function's `Throttles` (each one alarm metric)."""


def inventory(template: Mapping[str, Any]) -> Inventory:
    resources = list(template["Resources"].values())

    def of(kind: str) -> list[dict[str, Any]]:
        return [r.get("Properties", {}) for r in resources if r["Type"] == kind]

    alarm_metrics = sum(
        1 if "MetricName" in alarm else sum("MetricStat" in q for q in alarm.get("Metrics", []))
        for alarm in of("AWS::CloudWatch::Alarm")
    )
    bodies = [_dashboard_text(d["DashboardBody"]) for d in of("AWS::CloudWatch::Dashboard")]
    retention = [g.get("RetentionInDays", 3653) for g in of("AWS::Logs::LogGroup")]
    return Inventory(
        custom_metrics=tuple(
            (name, dimension_set)
            for name, sets in METRIC_DIMENSION_SETS.items()
            for dimension_set in sets
        ),
        alarm_metrics=alarm_metrics,
        dashboards=len(bodies),
        dashboard_metrics=sum(_metric_rows(body) for body in bodies),
        log_widgets=sum(body.count('"type":"log"') for body in bodies),
        secrets=len(of("AWS::SecretsManager::Secret")),
        kms_keys=len(of("AWS::KMS::Key")),
        sqs_event_sources=sum(
            _source_type(template, mapping.get("EventSourceArn")) == "AWS::SQS::Queue"
            for mapping in of("AWS::Lambda::EventSourceMapping")
        ),
        log_retention_days=max(retention, default=3653),
        throttle_alarms=sum(
            alarm.get("MetricName") == "Throttles" for alarm in of("AWS::CloudWatch::Alarm")
        ),
    )


def _source_type(template: Mapping[str, Any], arn: Any) -> str | None:
    """The type of the resource an event source mapping's `Fn::GetAtt [id, Arn]` names."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        resource: dict[str, Any] = template["Resources"].get(arn["Fn::GetAtt"][0], {})
        return resource.get("Type")
    return None


def _dashboard_text(body: Any) -> str:
    """The dashboard body with its intrinsics flattened to text (enough to count widgets)."""
    if isinstance(body, str):
        return body.replace(" ", "")
    if isinstance(body, dict) and "Fn::Join" in body:
        return "".join(_dashboard_text(part) for part in body["Fn::Join"][1])
    return "x"


def _metric_rows(body: str) -> int:
    """Rows of the metric widgets: each `[` that opens a row inside a `"metrics":[...]` list."""
    count = 0
    for chunk in body.split('"metrics":[')[1:]:
        depth, rows = 1, 0
        for char in chunk:
            if char == "[":
                depth += 1
                rows += depth == 2
            elif char == "]":
                depth -= 1
                if depth == 0:
                    break
        count += rows
    return count


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass(frozen=True)
class Line:
    name: str
    part: str
    """`fixed` (billed by the month), `per report`, or `storage` (what the month's data adds)."""
    usage: float
    unit: str
    price: float
    """Dollars per `unit`."""
    free_pool: str | None = None

    @property
    def list_price(self) -> float:
        return self.usage * self.price


@dataclass(frozen=True)
class Bill:
    reports: int
    lines: list[Line]
    billed: dict[str, float]
    """Each line beyond the always-free tier."""

    def total(self, part: str | None = None, *, free_tier: bool = True) -> float:
        return sum(
            self.billed[line.name] if free_tier else line.list_price
            for line in self.lines
            if part is None or line.part == part
        )

    def per_million(self) -> float:
        return self.total() / (self.reports / 1e6) if self.reports else float("inf")


def _mean(values: Mapping[str, float]) -> float:
    return sum(MIX[name] * value for name, value in values.items())


def _per_report(measured: Measured, log_bytes: Mapping[str, int]) -> dict[str, float]:
    """Usage per report: requests, GB-seconds, units, bytes."""
    a = ASSUMPTIONS
    recordings = MIX["call_finished"] * RECORDING_SHARE
    duration_ms = {
        name: math.ceil(
            measured.handler_us[name] / 1000
            + a["AWS latency in the postback function (ms): token cached, one PutItem"]
            + (
                a["AWS latency to queue a recording (ms): one SendMessageBatch"]
                if name == "call_finished"
                else 0
            )
        )
        for name in MIX
    }
    recording_gb_seconds = (
        a["recordings function: ms per recording (download + upload, 500 kB WAV)"]
        / 1000
        * a["recordings function memory (MB)"]
        / 1024
    )
    platform = a["Lambda platform log lines per invocation (START/END/REPORT), bytes"]
    recording_invocations = recordings / a["recording messages per recordings invocation"]
    overhead = a["DynamoDB storage overhead per item and per index entry, bytes"]
    stored = EVENTS_PER_REPORT[Metric.REPORTS_STORED]
    events = stored + recordings  # one per stored report, one per recording copied
    # the stream: the item written, each counted delivery, each recording's update
    stream_records = stored + EVENTS_PER_REPORT[Metric.REPORTS_DUPLICATE] + recordings
    events_invocations = (
        stream_records / a["stream records per events invocation (one per report at low volume)"]
    )
    return {
        "recordings": recordings,
        "events": events,
        "event bytes": events * a["event size (kB; each 64 kB is one billed event)"] * 1000,
        "lambda requests": 1 + recording_invocations + events_invocations,
        "lambda GB-seconds": _mean(
            {name: ms / 1000 * measured.memory_mb / 1024 for name, ms in duration_ms.items()}
        )
        + recordings * recording_gb_seconds
        + events_invocations
        * a["events function: ms per invocation (one PutEvents)"]
        / 1000
        * a["events function memory (MB)"]
        / 1024,
        "write units": _mean(
            {
                name: write_units(measured.item_bytes[name])
                + measured.index_entries[name] * write_units(measured.index_bytes[name])
                for name in MIX
            }
        )
        + recordings * write_units(measured.item_bytes["call_finished"]),
        "read units": recordings,
        "SQS requests": recordings * 3,
        "S3 PUTs": recordings,
        "log bytes": _mean(log_bytes)
        + platform
        + a["API Gateway access log line, bytes"]
        + recording_invocations * platform
        + recordings * a["recordings function log bytes per recording (INFO line + EMF record)"]
        + events_invocations
        * (platform + a["events function log bytes per invocation (INFO line + EMF record)"]),
        "postback log bytes": _mean(log_bytes) + platform,
        "DynamoDB bytes": _mean(
            {
                name: measured.item_bytes[name]
                + overhead
                + measured.index_entries[name] * (measured.index_bytes[name] + overhead)
                for name in MIX
            }
        ),
        "S3 bytes": recordings * a["recording size (kB)"] * 1000,
    }


def metric_months(stack: Inventory, reports: int) -> float:
    """Custom metrics billed, in metric-months: each name and dimension set (times the values of
    its other dimensions) for the share of hours in which it receives at least one data point."""
    total = 0.0
    for name, dimension_set in stack.custom_metrics:
        values = math.prod(
            1 if d == Dimension.SERVICE else ASSUMPTIONS[_VALUES] for d in dimension_set
        )
        rate = EVENTS_PER_REPORT.get(name)
        hourly = None if rate is None else rate / values * reports / HOURS_A_MONTH
        total += values * (1.0 if hourly is None else 1 - math.exp(-hourly))
    return total


def bill(
    reports: int,
    measured: Measured,
    stack: Inventory,
    *,
    log_bytes: Mapping[str, int] | None = None,
) -> Bill:
    """The month's bill for `reports` reports, line by line."""
    p, a = PRICES, ASSUMPTIONS
    use = {
        name: value * reports
        for name, value in _per_report(measured, log_bytes or measured.log_bytes).items()
    }
    gb = 1e9
    retention_months = stack.log_retention_days / 30
    insights_gb = (
        a["dashboard views a month (each runs every Logs Insights widget once)"]
        * stack.log_widgets
        * use["postback log bytes"]
        / gb
        * a["hours of log each dashboard view scans (its default range)"]
        / HOURS_A_MONTH
    )
    idle_polls = (
        stack.sqs_event_sources
        * a["SQS event source: idle ReceiveMessage calls a minute (5 pollers, 20 s long polls)"]
        * 60
        * HOURS_A_MONTH
    )
    lines = [
        Line(
            "Secrets Manager (the stack's secrets and your API key)",
            "fixed",
            stack.secrets + a[_API_KEY_SECRET],
            "secret",
            p["secrets_manager_secret_month"],
        ),
        Line("KMS keys (customer managed)", "fixed", stack.kms_keys, "key", p["kms_key_month"]),
        Line(
            "CloudWatch alarms",
            "fixed",
            stack.alarm_metrics,
            "alarm metric",
            p["cloudwatch_alarm_metric_month"],
            "alarm metrics",
        ),
        Line(
            "CloudWatch dashboards",
            "fixed",
            stack.dashboards,
            "dashboard",
            p["cloudwatch_dashboard_month"],
            "dashboards",
        ),
        Line(
            f"CloudWatch custom metrics ({METRICS_NAMESPACE})",
            "fixed",
            metric_months(stack, reports),
            "metric-month",
            p["cloudwatch_custom_metric_month"],
            "custom metrics",
        ),
        Line(
            "SQS (the event source's polling)",
            "fixed",
            idle_polls,
            "request",
            p["sqs_per_million_requests"] / 1e6,
            "SQS requests",
        ),
        Line(
            "API Gateway (HTTP API requests)",
            "per report",
            reports,
            "request",
            p["api_gateway_http_per_million"] / 1e6,
        ),
        Line(
            "Lambda requests",
            "per report",
            use["lambda requests"],
            "request",
            p["lambda_per_million_requests"] / 1e6,
            "lambda requests",
        ),
        Line(
            "Lambda duration (arm64)",
            "per report",
            use["lambda GB-seconds"],
            "GB-second",
            p["lambda_arm_gb_second"],
            "lambda GB-seconds",
        ),
        Line(
            "DynamoDB writes (items, index entries, recording updates)",
            "per report",
            use["write units"],
            "write unit",
            p["dynamodb_on_demand_per_million_wru"] / 1e6,
        ),
        Line(
            "DynamoDB reads (recordings)",
            "per report",
            use["read units"],
            "read unit",
            p["dynamodb_on_demand_per_million_rru"] / 1e6,
        ),
        Line(
            "SQS (send, receive, delete per recording)",
            "per report",
            use["SQS requests"],
            "request",
            p["sqs_per_million_requests"] / 1e6,
            "SQS requests",
        ),
        Line(
            "S3 PUTs (recordings)",
            "per report",
            use["S3 PUTs"],
            "request",
            p["s3_put_per_thousand"] / 1e3,
        ),
        Line(
            "EventBridge events (put on the bus)",
            "per report",
            use["events"],
            "event",
            p["eventbridge_custom_events_per_million"] / 1e6,
        ),
        Line(
            "EventBridge archive (events processed)",
            "per report",
            use["event bytes"] / gb,
            "GB",
            p["eventbridge_archive_gb_processed"],
        ),
        Line(
            "CloudWatch Logs ingestion (functions, platform lines, access log)",
            "per report",
            use["log bytes"] / gb,
            "GB",
            p["cloudwatch_logs_per_gb"],
            "CloudWatch Logs GB",
        ),
        Line(
            "CloudWatch Logs Insights (dashboard views)",
            "per report",
            insights_gb,
            "GB scanned",
            p["logs_insights_per_gb_scanned"],
            "CloudWatch Logs GB",
        ),
        Line(
            f"CloudWatch Logs storage ({stack.log_retention_days} days kept)",
            "storage",
            use["log bytes"]
            / gb
            * a["CloudWatch Logs storage: stored bytes per ingested byte (compressed)"]
            * retention_months,
            "GB-month",
            p["cloudwatch_logs_storage_gb_month"],
            "CloudWatch Logs GB",
        ),
        Line(
            "DynamoDB storage (the month's items, half a month on average)",
            "storage",
            use["DynamoDB bytes"] / gb / 2,
            "GB-month",
            p["dynamodb_storage_gb_month"],
            "DynamoDB storage GB",
        ),
        Line(
            "EventBridge archive storage (the month's events, half a month on average)",
            "storage",
            use["event bytes"] / gb / 2,
            "GB-month",
            p["eventbridge_archive_gb_month"],
        ),
        Line(
            "S3 storage (the month's recordings, half a month on average)",
            "storage",
            use["S3 bytes"] / gb / 2,
            "GB-month",
            p["s3_standard_gb_month"],
        ),
    ]
    return Bill(reports, lines, _beyond_free_tier(lines))


def _beyond_free_tier(lines: Iterable[Line]) -> dict[str, float]:
    left = dict(FREE_TIER)
    billed = {}
    for line in lines:
        usage = line.usage
        if line.free_pool is not None:
            covered = min(usage, left[line.free_pool])
            left[line.free_pool] -= covered
            usage -= covered
        billed[line.name] = usage * line.price
    return billed


def accrual(reports: int, measured: Measured) -> float:
    """What each further month of keeping one month's items and recordings adds to the bill."""
    use = _per_report(measured, measured.log_bytes)
    return reports * (
        use["DynamoDB bytes"] / 1e9 * PRICES["dynamodb_storage_gb_month"]
        + use["S3 bytes"] / 1e9 * PRICES["s3_standard_gb_month"]
    )


def trade_offs(measured: Measured, stack: Inventory, reports: int) -> dict[str, float]:
    """What each change the product leaves to the user would save a month at `reports`."""
    base = bill(reports, measured, stack)
    per_report = _per_report(measured, measured.log_bytes)
    wru_a_second = per_report["write units"] * reports / (HOURS_A_MONTH * 3600)
    provisioned = (
        wru_a_second
        * ASSUMPTIONS["peak-to-average traffic, for provisioned DynamoDB capacity"]
        * PRICES["dynamodb_provisioned_wcu_hour"]
        * HOURS_A_MONTH
    )
    platform = ASSUMPTIONS["Lambda platform log lines per invocation (START/END/REPORT), bytes"]
    return {
        "logLevel=WARNING: no INFO line per stored report (warnings and errors stay)": (
            base.total()
            - bill(reports, measured, stack, log_bytes=measured.quiet_log_bytes).total()
            if measured.quiet_log_bytes
            else 0.0
        ),
        "Lambda JSON logs with system log level WARN: no START/END/REPORT lines": (
            per_report["lambda requests"]
            * reports
            * platform
            / 1e9
            * PRICES["cloudwatch_logs_per_gb"]
        ),
        "provisioned DynamoDB writes with auto scaling instead of on-demand": (
            base.billed["DynamoDB writes (items, index entries, recording updates)"] - provisioned
        ),
        "a Lambda function URL instead of the HTTP API (no throttle, no access log)": (
            base.billed["API Gateway (HTTP API requests)"]
        ),
        "the token (and API key) in SSM Parameter Store SecureString instead of Secrets Manager "
        "(no rotation, no resource policy)": base.billed[_SECRETS_LINE],
        "no dashboard": base.billed["CloudWatch dashboards"]
        + base.billed["CloudWatch Logs Insights (dashboard views)"],
        "no Throttles alarms (the 5xx-rate, queue, dead-letter and iterator-age alarms still see "
        "what a throttled function leaves undone)": base.total()
        - bill(
            reports,
            measured,
            replace(stack, alarm_metrics=stack.alarm_metrics - stack.throttle_alarms),
        ).total(),
        "one generated secret holding the token, the webhook secret and the hash salt (every "
        "function could read all three)": base.total()
        - bill(reports, measured, replace(stack, secrets=min(stack.secrets, 1))).total(),
    }


def per_million(measured: Measured) -> dict[str, float]:
    """Dollars per million reports for the per-report lines, at list price."""
    return {
        line.name: line.list_price
        for line in bill(1_000_000, measured, _NO_STACK).lines
        if line.part == "per report"
    }


_NO_STACK = Inventory((), 0, 0, 0, 0, 0, 0, 0, 90)

__all__ = [
    "ASSUMPTIONS",
    "FREE_TIER",
    "GOALS",
    "MIX",
    "PRICES",
    "VOLUMES",
    "Bill",
    "Inventory",
    "Measured",
    "accrual",
    "bill",
    "inventory",
    "per_million",
    "trade_offs",
    "write_units",
]


def _dollars(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.995 or value == 0 else f"${value:.3f}"


def goals(measured: Measured, stack: Inventory) -> dict[str, tuple[float, float]]:
    """Each goal: (the figure, the goal)."""
    thousand = bill(100_000, measured, stack)
    idle = bill(0, measured, stack)
    hundred_million = bill(100_000_000, measured, stack)
    figures = {
        "all-in at 100 thousand reports a month": thousand.total(),
        "idle, beyond the free tier": idle.total(),
        "per million at 100 million reports a month, fixed and per-report lines": (
            hundred_million.total() - hundred_million.total("storage")
        )
        / 100,
    }
    return {name: (figures[name], GOALS[name]) for name in GOALS}


def report(measured: Measured, stack: Inventory) -> str:
    """The monthly bill as Markdown: totals by volume, goals, line items, trade-offs, inputs."""
    bills = {label: bill(reports, measured, stack) for label, reports in VOLUMES.items()}
    out = [
        f"From the synthesized template and `functions/names.py`: {stack.alarm_metrics} alarm "
        f"metrics, {stack.dashboards} dashboard ({stack.dashboard_metrics} metrics, "
        f"{stack.log_widgets} Logs Insights widgets), {len(stack.custom_metrics)} custom metrics "
        f"(name and dimension set), {stack.secrets} secret (and your API key's), "
        f"{stack.sqs_event_sources} SQS event source, logs kept {stack.log_retention_days} days; "
        "item sizes, log bytes and handler time measured in the same run.",
        "",
        "| reports a month | fixed | per report | storage (the month's data) | list price "
        "| billed, beyond the always-free tier | $ per million, every line |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, monthly in bills.items():
        per_million = f"{monthly.per_million():.2f}" if monthly.reports else "-"
        out.append(
            f"| {label} | {_dollars(monthly.total('fixed'))} "
            f"| {_dollars(monthly.total('per report'))} | {_dollars(monthly.total('storage'))} "
            f"| {_dollars(monthly.total(free_tier=False))} | **{_dollars(monthly.total())}** "
            f"| {per_million} |"
        )
    out += ["", "| goal | figure | goal | result |", "|---|---|---|---|"]
    for name, (figure, goal) in goals(measured, stack).items():
        verdict = "met" if figure <= goal else f"missed by ${figure - goal:.2f}"
        out.append(f"| {name} | ${figure:.2f} | ≤ ${goal:.2f} | {verdict} |")
    low, high = bills["100 thousand"], bills["100 million"]
    out += [
        "",
        "Line items (list price / billed beyond the always-free tier):",
        "",
        "| item | part | 100 thousand a month | 100 million a month |",
        "|---|---|---|---|",
    ]
    for line in low.lines:
        high_line = next(other for other in high.lines if other.name == line.name)
        out.append(
            f"| {line.name} | {line.part} "
            f"| {_dollars(line.list_price)} / {_dollars(low.billed[line.name])} "
            f"| {_dollars(high_line.list_price)} / {_dollars(high.billed[line.name])} |"
        )
    out += [
        "",
        "Each further month a month's items and recordings are kept adds "
        f"{_dollars(accrual(100_000, measured))} a month at 100 thousand reports, "
        f"{_dollars(accrual(100_000_000, measured))} at 100 million (DynamoDB and S3 storage; "
        "`retainData` keeps them until you delete them).",
        "",
        "What the changes left to you would save a month:",
        "",
        "| change | at 100 thousand | at 100 million | per million at 100 million |",
        "|---|---|---|---|",
    ]
    savings_low = trade_offs(measured, stack, 100_000)
    savings_high = trade_offs(measured, stack, 100_000_000)
    for name, saved in savings_high.items():
        out.append(
            f"| {name} | {_dollars(savings_low[name])} | {_dollars(saved)} | {saved / 100:.2f} |"
        )
    out += [
        "",
        "Assumptions: "
        + "; ".join(f"{name}: {value:g}" for name, value in ASSUMPTIONS.items())
        + "; mix of reports: "
        + ", ".join(f"{k} {v:.0%}" for k, v in MIX.items())
        + "; custom metric data points per report: "
        + ", ".join(f"{k} {v:g}" for k, v in EVENTS_PER_REPORT.items())
        + ".",
        "",
        "Prices (us-east-1, list): "
        + ", ".join(f"{k} {v:g}" for k, v in PRICES.items())
        + ". Always-free tier: "
        + ", ".join(f"{k} {v:,}" for k, v in FREE_TIER.items())
        + ".",
        "",
    ]
    return "\n".join(out)
