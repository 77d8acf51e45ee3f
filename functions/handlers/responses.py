"""Postback outcomes as HTTP answers (status codes and error shape as docs/contract.md gives them)
and as metrics."""

from __future__ import annotations

import json

from aws_lambda_powertools.metrics import Metrics, MetricUnit

from functions.names import LogKey, Metric
from functions.postback.delivery import EventResult
from functions.postback.service import Outcome, Status
from functions.postback.webhooks import DeliveryOutcome, DeliveryStatus
from functions.reports import CallReport, RejectReason
from functions.reports.smoke import is_smoke_test

_REFUSAL_STATUS = {
    RejectReason.TOO_LARGE: 413,
    RejectReason.NOT_WELL_FORMED: 400,
    RejectReason.FORBIDDEN_XML: 400,
    RejectReason.UNKNOWN_REPORT: 422,
    RejectReason.NO_EVENTS: 400,
}
_ERRORS = {
    Status.FORBIDDEN: (403, "forbidden"),
    Status.UNAVAILABLE: (503, "storage_unavailable"),
    Status.FAILED: (500, "internal_error"),
}


def http_answer(outcome: Outcome, request_id: str) -> tuple[int, str]:
    """The status code and JSON body for `outcome`."""
    if outcome.status is Status.REJECTED and outcome.reason is not None:
        return _error(
            _REFUSAL_STATUS[outcome.reason], outcome.reason.value, outcome.detail, request_id
        )
    if outcome.status in _ERRORS:
        status_code, code = _ERRORS[outcome.status]
        return _error(status_code, code, outcome.detail, request_id)
    body: dict[str, object] = {"status": outcome.status.value, "requestId": request_id}
    if outcome.report is not None:
        body["kind"] = outcome.report.kind
        body["id"] = (
            outcome.report.call_id
            if isinstance(outcome.report, CallReport)
            else outcome.report.campaign_id
        )
    return 200, json.dumps(body)


def _error(status_code: int, code: str, message: str, request_id: str) -> tuple[int, str]:
    return status_code, json.dumps({"error": code, "message": message, "requestId": request_id})


def record_metrics(metrics: Metrics, outcome: Outcome) -> None:
    """One count per outcome, for the whole service (what alarms watch and the bill counts). The
    outcome, the report's kind and the refusal's reason ride along on the same EMF record as
    metadata, not dimensions: Logs Insights splits the counts by them, at no metric's price."""
    metrics.add_metadata(LogKey.OUTCOME, outcome.status.value)
    if outcome.report is not None:
        metrics.add_metadata(LogKey.KIND, outcome.report.kind)
    if outcome.reason is not None:
        metrics.add_metadata(LogKey.REASON, outcome.reason.value)
    smoke = is_smoke_test(outcome.report)
    if smoke:
        metrics.add_metadata(LogKey.SMOKE, True)
    name = _METRIC_NAMES[outcome.status]
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    received = (Status.STORED, Status.UPDATED, Status.DUPLICATE, Status.CONFLICT)
    if outcome.status in received and not smoke:
        # The silence alarm reads this count: a smoke test must not hide CallFire's silence.
        metrics.add_metric(name=Metric.REPORTS_RECEIVED, unit=MetricUnit.Count, value=1)
    if outcome.recordings_queued:
        metrics.add_metric(
            name=Metric.RECORDINGS_QUEUED, unit=MetricUnit.Count, value=outcome.recordings_queued
        )
    if outcome.recordings_unqueued:
        metrics.add_metric(
            name=Metric.RECORDINGS_NOT_QUEUED,
            unit=MetricUnit.Count,
            value=outcome.recordings_unqueued,
        )


_METRIC_NAMES = {
    Status.STORED: Metric.REPORTS_STORED,
    Status.UPDATED: Metric.REPORTS_UPDATED,
    Status.DUPLICATE: Metric.REPORTS_DUPLICATE,
    Status.CONFLICT: Metric.REPORTS_CONFLICTING,
    Status.FORBIDDEN: Metric.REQUESTS_FORBIDDEN,
    Status.REJECTED: Metric.REPORTS_REFUSED,
    Status.UNAVAILABLE: Metric.REPORTS_UNAVAILABLE,
    Status.FAILED: Metric.REPORTS_FAILED,
}


_DELIVERY_ERRORS = {
    DeliveryStatus.FORBIDDEN: (403, "forbidden"),
    DeliveryStatus.UNAVAILABLE: (503, "storage_unavailable"),
    DeliveryStatus.FAILED: (500, "internal_error"),
}


def webhook_answer(outcome: DeliveryOutcome, request_id: str) -> tuple[int, str]:
    """`200 {"status", "events", "outcomes", "requestId"}`: `status` is the one outcome every
    event had, else `mixed`; `outcomes` counts each. Errors as for postbacks."""
    if outcome.status is DeliveryStatus.REJECTED and outcome.reason is not None:
        return _error(
            _REFUSAL_STATUS[outcome.reason], outcome.reason.value, outcome.detail, request_id
        )
    if outcome.status in _DELIVERY_ERRORS:
        status_code, code = _DELIVERY_ERRORS[outcome.status]
        return _error(status_code, code, outcome.detail, request_id)
    counts = {result.value: count for result, count in outcome.results.items() if count}
    status = next(iter(counts)) if len(counts) == 1 else "mixed"
    body = {"status": status, "events": outcome.events, "outcomes": counts, "requestId": request_id}
    return 200, json.dumps(body)


_EVENT_METRICS = {
    EventResult.STORED: Metric.REPORTS_STORED,
    EventResult.UPDATED: Metric.REPORTS_UPDATED,
    EventResult.DUPLICATE: Metric.REPORTS_DUPLICATE,
    EventResult.CONFLICT: Metric.REPORTS_CONFLICTING,
    EventResult.KEPT: Metric.EVENTS_KEPT,
    EventResult.REFUSED: Metric.REPORTS_REFUSED,
}
_REPORTS_READ = (
    EventResult.STORED,
    EventResult.UPDATED,
    EventResult.DUPLICATE,
    EventResult.CONFLICT,
)
_DELIVERY_METRICS = {
    DeliveryStatus.FORBIDDEN: Metric.REQUESTS_FORBIDDEN,
    DeliveryStatus.REJECTED: Metric.REPORTS_REFUSED,
    DeliveryStatus.UNAVAILABLE: Metric.REPORTS_UNAVAILABLE,
    DeliveryStatus.FAILED: Metric.REPORTS_FAILED,
}


def record_webhook_metrics(metrics: Metrics, outcome: DeliveryOutcome) -> None:
    """One count per event outcome, for the whole service only (a delivery mixes kinds); a
    delivery refused, forbidden or not stored counts once, like a postback. The delivery's status
    and refusal reason ride along as metadata, as for postbacks."""
    metrics.add_metadata(LogKey.OUTCOME, outcome.status.value)
    if outcome.reason is not None:
        metrics.add_metadata(LogKey.REASON, outcome.reason.value)
    if outcome.smoke:
        metrics.add_metadata(LogKey.SMOKE, True)
    if not outcome.results:
        if outcome.status in _DELIVERY_METRICS:
            name = _DELIVERY_METRICS[outcome.status]
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return
    for result, count in outcome.results.items():
        if count:
            metrics.add_metric(name=_EVENT_METRICS[result], unit=MetricUnit.Count, value=count)
    received = sum(outcome.results[result] for result in _REPORTS_READ)
    if received and not outcome.smoke:
        # The silence alarm reads this count: a smoke test must not hide CallFire's silence.
        metrics.add_metric(name=Metric.REPORTS_RECEIVED, unit=MetricUnit.Count, value=received)
    for name, count in (
        (Metric.RECORDINGS_QUEUED, outcome.recordings_queued),
        (Metric.RECORDINGS_NOT_QUEUED, outcome.recordings_unqueued),
        (Metric.LOW_BALANCE_EVENTS, outcome.low_balance),
    ):
        if count:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
