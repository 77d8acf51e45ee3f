"""Lambda entry point for `POST /postbacks` (API Gateway HTTP API, payload 2.0)."""

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
from functions.handlers.responses import http_answer, record_metrics
from functions.names import METRICS_NAMESPACE, SERVICE_NAME, Route
from functions.postback.service import Postback
from functions.wiring.postback import ANSWER_SECONDS, postback_service

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
app = APIGatewayHttpResolver()


@app.post(Route.POSTBACKS)
def receive_postback() -> Response[str]:
    event = app.current_event
    request_id = event.request_context.request_id
    outcome = postback_service().receive(
        Postback(
            body=_body(event),
            token=event.get_query_string_value(Route.TOKEN_PARAMETER),
            request_id=request_id,
            received_at=datetime.now(UTC),
            content_encoding=event.headers.get("content-encoding"),
        ),
        deadline=_deadline(app.lambda_context),
    )
    record_metrics(metrics, outcome)
    status_code, body = http_answer(outcome, request_id)
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body=body)


def _deadline(context: LambdaContext) -> float:
    """When the service must be done: the invocation's remaining time, less the answer's."""
    return time.monotonic() + context.get_remaining_time_in_millis() / 1000 - ANSWER_SECONDS


def _body(event: APIGatewayProxyEventV2) -> bytes | str:
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    leave_out_what_lambda_says(logger)
    metrics.clear_metrics()  # with POWERTOOLS_METRICS_DISABLED, Powertools never flushes them
    return app.resolve(event, context)
