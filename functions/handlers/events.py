"""Lambda entry point for the tables' DynamoDB streams (event source mappings with partial batch
responses): each batch of changes becomes events on the bus."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.events.service import BatchOutcome
from functions.handlers.logs import leave_out_what_lambda_says
from functions.names import METRICS_NAMESPACE, SERVICE_NAME, Metric
from functions.wiring.events import ANSWER_SECONDS, events_service, retry_seconds

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


def _deadline(context: LambdaContext) -> float:
    """When the batch's outcome must be known: the invocation's remaining time, less the time
    to answer which record failed."""
    return time.monotonic() + context.get_remaining_time_in_millis() / 1000 - ANSWER_SECONDS


def _record_metrics(outcome: BatchOutcome) -> None:
    """`EventsPublished` always (a batch of counted deliveries publishes 0), the others when
    they happened."""
    metrics.add_metric(name=Metric.EVENTS_PUBLISHED, unit=MetricUnit.Count, value=outcome.published)
    for name, value in (
        (Metric.EVENTS_NOT_PUBLISHED, outcome.not_published),
        (Metric.EVENTS_TRIMMED, outcome.trimmed),
    ):
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    leave_out_what_lambda_says(logger)
    metrics.clear_metrics()  # with POWERTOOLS_METRICS_DISABLED, Powertools never flushes them
    records = event.get("Records", [])
    deadline = _deadline(context)
    retry_until = min(deadline, time.monotonic() + retry_seconds())
    outcome = events_service().handle(records, retry_until=retry_until, deadline=deadline)
    _record_metrics(outcome)
    logger.info(
        "stream batch",
        extra={
            "records": len(records),
            "published": outcome.published,
            "notPublished": outcome.not_published,
            "retried": outcome.retried,
        },
    )
    return outcome.batch_response()
