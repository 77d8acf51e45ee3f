"""Lambda entry point for `POST /webhooks` (API Gateway HTTP API, payload 2.0): CallFire's v2
webhook deliveries."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.handlers.logs import leave_out_what_lambda_says
from functions.handlers.responses import record_webhook_metrics, webhook_answer
from functions.names import METRICS_NAMESPACE, SERVICE_NAME, Route
from functions.postback.webhooks import WebhookRequest
from functions.wiring.webhooks import ANSWER_SECONDS, webhook_service

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
app = APIGatewayHttpResolver()


@app.post(Route.WEBHOOKS)
def receive_delivery() -> Response[str]:
    event = app.current_event
    request_id = event.request_context.request_id
    outcome = webhook_service().receive(
        WebhookRequest(
            body=_body(event),
            signature=event.headers.get(Route.SIGNATURE_HEADER),
            request_id=request_id,
            received_at=datetime.now(UTC),
            deadline=_deadline(app.lambda_context),
            content_encoding=event.headers.get("content-encoding"),
        )
    )
    record_webhook_metrics(metrics, outcome)
    status_code, body = webhook_answer(outcome, request_id)
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body=body)


def _body(event: APIGatewayProxyEventV2) -> bytes | str:
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body


def _deadline(context: LambdaContext) -> float:
    """When the service must be done (its archive included): the invocation's remaining time,
    less the answer's."""
    return time.monotonic() + context.get_remaining_time_in_millis() / 1000 - ANSWER_SECONDS


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    leave_out_what_lambda_says(logger)
    metrics.clear_metrics()  # with POWERTOOLS_METRICS_DISABLED, Powertools never flushes them
    return app.resolve(event, context)
