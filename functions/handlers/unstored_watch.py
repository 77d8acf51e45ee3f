"""Lambda entry point for the hourly unstored watch (an EventBridge schedule): while a body waits
in `unstored/`, publishes how long the oldest one has waited, for the `UnstoredBodiesWaiting`
alarm."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.failures import ArchiveUnavailable
from functions.handlers.logs import leave_out_what_lambda_says
from functions.names import METRICS_NAMESPACE, SERVICE_NAME, Metric
from functions.wiring.unstored_watch import unstored_watch

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
ANSWER_SECONDS = 1.0
"""Kept back from the invocation's remaining time to log and publish the finding."""


@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(
    event: dict[str, Any],  # noqa: ARG001 - the schedule's event says nothing the watch needs
    context: LambdaContext,
) -> dict[str, Any]:
    leave_out_what_lambda_says(logger)
    metrics.clear_metrics()  # with POWERTOOLS_METRICS_DISABLED, Powertools never flushes them
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - ANSWER_SECONDS
    try:
        finding = unstored_watch().oldest_waiting(deadline=deadline)
    except ArchiveUnavailable as error:
        logger.error("unstored/ could not be read", extra={"error": error.code})
        raise
    if finding.oldest_key is not None:
        # Only while a body waits: a custom metric is billed for each hour it gets data, and the
        # alarm reads no data as OK. (Powertools' log_metrics would warn of an empty flush.)
        metrics.add_metric(
            name=Metric.OLDEST_UNSTORED_BODY_AGE,
            unit=MetricUnit.Seconds,
            value=finding.oldest_age_seconds,
        )
        metrics.flush_metrics()
    answer = {
        "oldestAgeSeconds": finding.oldest_age_seconds,
        "oldestKey": finding.oldest_key,
        "checked": finding.checked,
        "undecided": finding.undecided,
    }
    if finding.undecided:
        logger.warning(
            "too many replayed bodies in unstored/ to find the oldest waiting one; "
            "delete the bodies tagged replayed",
            extra=answer,
        )
    else:
        logger.info("unstored bodies checked", extra=answer)
    return answer
