"""Lambda entry point for the hourly check of the stack's CallFire webhooks (an EventBridge
schedule). It publishes how many are missing, disabled or wrong (the alarm's metric) every run; a
run that cannot ask CallFire fails, which the function's Errors alarm reports."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.handlers.logs import leave_out_what_lambda_says
from functions.names import METRICS_NAMESPACE, SERVICE_NAME, Metric
from functions.webhook_registration.health import check_webhooks
from functions.wiring.webhook_health import health_check, webhook_manager, webhook_secret

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)

SAFETY_SECONDS = 5.0


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any],  # noqa: ARG001 - the schedule's event says nothing the check needs
    context: LambdaContext,
) -> dict[str, Any]:
    leave_out_what_lambda_says(logger)
    metrics.clear_metrics()  # with POWERTOOLS_METRICS_DISABLED, Powertools never flushes them
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
    report = check_webhooks(
        webhook_manager(deadline=deadline),
        health_check(),
        secret=webhook_secret(deadline=deadline),
        deadline=deadline,
    )
    metrics.add_metric(
        name=Metric.WEBHOOKS_UNHEALTHY, unit=MetricUnit.Count, value=report.unhealthy
    )
    if report.repaired:
        metrics.add_metric(
            name=Metric.WEBHOOKS_REPAIRED, unit=MetricUnit.Count, value=len(report.repaired)
        )
    return {"unhealthy": report.problems, "repaired": report.repaired}
