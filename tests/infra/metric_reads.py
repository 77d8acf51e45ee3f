"""What the synthesized template reads: every metric an alarm or a dashboard widget reads (single
metrics, metric math, SEARCH expressions) and every Logs Insights query a widget runs.

SEARCH syntax (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html):
`SEARCH(' {Namespace, DimensionName1, DimensionName2, ...} SearchTerm', 'Statistic', Period)`.
A schema in braces matches only metrics with exactly that set of dimensions, in any order (stated
for Metrics Insights SCHEMA() in cloudwatch-metrics-insights-querylanguage.html and shown by the
search-expression examples), so `{NS,kind,service}` finds nothing published as `[["service"],
["kind"]]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.infra.deployed import Deployed


@dataclass(frozen=True)
class MetricRead:
    where: str
    namespace: str
    name: str | None
    """None: a SEARCH without a MetricName term reads every metric of its schema."""
    dimensions: dict[str, str | None] = field(default_factory=dict)
    """Each dimension the read names, with its value (None: any value, as in a SEARCH schema)."""

    def key(self) -> tuple[str, str | None, frozenset[str]]:
        return self.namespace, self.name, frozenset(self.dimensions)


@dataclass(frozen=True)
class LogQuery:
    where: str
    log_groups: tuple[str, ...]
    query: str

    def compared(self) -> list[tuple[str, str]]:
        """The `field = "value"` comparisons of its filters."""
        return re.findall(r'(\w+)\s*=\s*"([^"]*)"', self._commands("filter"))

    def present(self) -> list[str]:
        return re.findall(r"ispresent\((\w+)\)", self._commands("filter"))

    def grouped_by(self) -> list[str]:
        """The fields its `stats ... by` groups by, less bin()."""
        fields = []
        for clause in re.findall(r"\bby\s+([^|]+)", self._commands("stats")):
            fields += [
                name.strip()
                for name in re.sub(r"bin\([^)]*\)", "", clause).split(",")
                if name.strip()
            ]
        return fields

    def _commands(self, command: str) -> str:
        return " | ".join(
            part.strip() for part in self.query.split("|") if part.strip().startswith(f"{command} ")
        )


_SEARCH = re.compile(r"SEARCH\(\s*'([^']*)'")
_SCHEMA = re.compile(r"\{([^}]*)\}")
_METRIC_NAME = re.compile(r'MetricName\s*=\s*"?([^"\s)]+)"?')


def search_reads(where: str, expression: str) -> Iterator[MetricRead]:
    for search in _SEARCH.findall(expression):
        schema = _SCHEMA.search(search)
        if schema is None:
            raise ValueError(f"{where}: a SEARCH without a schema reads anything: {search!r}")
        namespace, *dimensions = [part.strip().strip('"') for part in schema.group(1).split(",")]
        name = _METRIC_NAME.search(search)
        yield MetricRead(
            where, namespace, name.group(1) if name else None, dict.fromkeys(dimensions)
        )


def alarm_reads(deployed: Deployed) -> Iterator[MetricRead]:
    for kind in ("AWS::CloudWatch::Alarm",):
        for logical_id, properties in deployed.resources(kind).items():
            resolved = deployed.resolve(properties)
            where = f"alarm {logical_id}"
            if "MetricName" in resolved:
                yield MetricRead(
                    where,
                    resolved["Namespace"],
                    resolved["MetricName"],
                    {d["Name"]: d["Value"] for d in resolved.get("Dimensions", [])},
                )
            for query in resolved.get("Metrics", []):
                if "MetricStat" in query:
                    metric = query["MetricStat"]["Metric"]
                    yield MetricRead(
                        where,
                        metric["Namespace"],
                        metric["MetricName"],
                        {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])},
                    )
                elif "SEARCH(" in query.get("Expression", ""):
                    yield from search_reads(where, query["Expression"])


def dashboard_widgets(deployed: Deployed) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, properties in deployed.resources("AWS::CloudWatch::Dashboard").items():
        body = json.loads(deployed.resolve(properties["DashboardBody"]))
        for widget in body.get("widgets", []):
            title = widget.get("properties", {}).get("title", widget["type"])
            yield f"dashboard {logical_id}, widget {title!r}", widget


def widget_metric_reads(where: str, rows: list[list[Any]]) -> Iterator[MetricRead]:
    """A metric widget's rows: `[namespace, name, dim, value, ..., {options}]`, `"."` repeating
    the row before, or `[{"expression": ...}]`."""
    previous: list[Any] = []
    for row in rows:
        cells = [cell for cell in row if not isinstance(cell, dict)]
        options = next((cell for cell in row if isinstance(cell, dict)), {})
        if not cells:
            yield from search_reads(where, options.get("expression", ""))
            continue
        if cells[0] == "...":
            raise ValueError(f"{where}: '...' rows are not read by this check")
        cells = [previous[i] if cell == "." else cell for i, cell in enumerate(cells)]
        previous = cells
        namespace, name, *pairs = cells
        yield MetricRead(where, namespace, name, dict(zip(pairs[::2], pairs[1::2], strict=True)))


def dashboard_reads(deployed: Deployed) -> Iterator[MetricRead]:
    for where, widget in dashboard_widgets(deployed):
        properties = widget.get("properties", {})
        if widget["type"] == "metric":
            yield from widget_metric_reads(where, properties.get("metrics", []))


def log_queries(deployed: Deployed) -> Iterator[LogQuery]:
    for where, widget in dashboard_widgets(deployed):
        if widget["type"] == "log":
            query = widget["properties"]["query"]
            groups = tuple(re.findall(r"SOURCE\s+'([^']+)'", query))
            yield LogQuery(where, groups, re.sub(r"SOURCE\s+'[^']+'\s*\|?", "", query).strip())


def metric_reads(deployed: Deployed) -> list[MetricRead]:
    return [*alarm_reads(deployed), *dashboard_reads(deployed)]


def function_log_groups(deployed: Deployed) -> dict[str, str]:
    """Each function's log group name and the handler it runs."""
    found = {}
    for properties in deployed.resources("AWS::Lambda::Function").values():
        group = properties.get("LoggingConfig", {}).get("LogGroup")
        if group is not None and "Handler" in properties:
            found[deployed.resolve(group)] = properties["Handler"]
    return found


def _sets(*sets: tuple[str, ...]) -> frozenset[frozenset[str]]:
    return frozenset(frozenset(s) for s in sets)


_LAMBDA = _sets(("FunctionName",), ("FunctionName", "Resource"), ())
_HTTP_API = _sets(("ApiId",), ("ApiId", "Stage"), ("ApiId", "Method", "Resource", "Stage"))
_QUEUE = _sets(("QueueName",))
_TABLE = _sets(("TableName",), ("TableName", "GlobalSecondaryIndexName"))
_TABLE_OPERATION = _sets(("TableName", "Operation"))
AWS_PUBLISHED: dict[str, dict[str, frozenset[frozenset[str]]]] = {
    # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
    "AWS/Lambda": dict.fromkeys(
        (
            "Invocations",
            "Errors",
            "Throttles",
            "Duration",
            "ConcurrentExecutions",
            "DeadLetterErrors",
            "DestinationDeliveryFailures",
            "IteratorAge",
            "AsyncEventsDropped",
        ),
        _LAMBDA,
    ),
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
    "AWS/ApiGateway": dict.fromkeys(
        ("4xx", "5xx", "Count", "IntegrationLatency", "Latency", "DataProcessed"), _HTTP_API
    ),
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
    "AWS/SQS": dict.fromkeys(
        (
            "ApproximateAgeOfOldestMessage",
            "ApproximateNumberOfMessagesDelayed",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesVisible",
            "NumberOfEmptyReceives",
            "NumberOfMessagesDeleted",
            "NumberOfMessagesReceived",
            "NumberOfMessagesSent",
            "SentMessageSize",
        ),
        _QUEUE,
    ),
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
    "AWS/DynamoDB": {
        **dict.fromkeys(
            (
                "ConsumedReadCapacityUnits",
                "ConsumedWriteCapacityUnits",
                "ReadThrottleEvents",
                "WriteThrottleEvents",
            ),
            _TABLE,
        ),
        **dict.fromkeys(
            ("ThrottledRequests", "SystemErrors", "SuccessfulRequestLatency", "ReturnedItemCount"),
            _TABLE_OPERATION,
        ),
    },
}
"""Metrics AWS publishes, with the dimension sets its documentation gives them. A read of an AWS
metric that is not here fails the metric contract test: look the metric up in AWS's
documentation and add it with the page that says so."""
