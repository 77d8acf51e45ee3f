"""Hiding a received message for a while: how a transient failure backs off through the queue."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.names import SERVICE_NAME

logger = Logger(service=SERVICE_NAME)


class SqsMessageVisibility:
    def __init__(self, sqs: AwsService, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def hide(self, receipt_handle: str, seconds: int, *, deadline: float) -> None:
        """Best effort: when it fails, the message comes back after the queue's own visibility
        timeout instead."""
        try:
            self._sqs.call(
                "change_message_visibility",
                deadline,
                QueueUrl=self._queue_url,
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=seconds,
            )
        except (ClientError, BotoCoreError) as error:
            logger.warning("visibility not changed", extra={"error": error_code(error)})
