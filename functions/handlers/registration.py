"""Lambda entry point for the custom resource that subscribes the postback URL with CallFire: the
on_event handler of a CDK Provider framework (CloudFormation's Create, Update and Delete)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.names import SERVICE_NAME
from functions.registration.service import RegistrationFailed
from functions.wiring.registration import SAFETY_SECONDS, registration_service

logger = Logger(service=SERVICE_NAME)


@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(requestType=event.get("RequestType"))
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
    try:
        return registration_service().on_event(
            event, deadline=deadline, function_name=context.function_name
        )
    except RegistrationFailed as failure:
        logger.error("subscription with CallFire failed", extra={"reason": str(failure)})
        raise
