"""Lambda entry point for the custom resource that keeps the stack's CallFire v2 webhooks: the
on_event handler of a CDK Provider framework (CloudFormation's Create, Update and Delete)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.names import SERVICE_NAME
from functions.webhook_registration.registration import RegistrationFailed
from functions.wiring.webhook_registration import webhook_registration

logger = Logger(service=SERVICE_NAME)

SAFETY_SECONDS = 5.0
"""Time kept back from the function's timeout to fail with a message rather than be cut off."""


@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(requestType=event.get("RequestType"))
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
    try:
        return webhook_registration().on_event(event, deadline=deadline)
    except RegistrationFailed as failure:
        logger.error(
            "registering the webhooks with CallFire failed", extra={"reason": str(failure)}
        )
        raise
