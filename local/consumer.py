"""An SQS event source mapping on this machine: receive a batch, hand it to the function as Lambda
would, delete what succeeded (partial batch responses), leave the rest to the queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.events import sqs_event
from local.invoke import Handler, lambda_context, load_handler
from local.resources import LocalFunction


@dataclass
class Delivery:
    """One invocation: the records handed over and what the function answered."""

    event: dict[str, Any]
    response: dict[str, Any]

    @property
    def message_ids(self) -> list[str]:
        return [record["messageId"] for record in self.event["Records"]]

    @property
    def failed_ids(self) -> list[str]:
        return [failure["itemIdentifier"] for failure in self.response["batchItemFailures"]]


class QueueConsumer:
    def __init__(
        self,
        function: LocalFunction,
        sqs: Any,
        *,
        queue_url: str,
        queue_arn: str,
        region: str,
        batch_size: int = 10,
        handler: Handler | None = None,
    ) -> None:
        self.function = function
        self._sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self._region = region
        self._batch_size = batch_size
        self._handler: Callable[[dict[str, Any], Any], Any] = handler or load_handler(
            function.handler
        )
        self.deliveries: list[Delivery] = []

    def poll_once(self, wait_seconds: int = 0) -> Delivery | None:
        """One receive and, when it returned messages, one invocation; None when the queue had
        nothing visible."""
        messages = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self._batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait_seconds,
        ).get("Messages", [])
        if not messages:
            return None
        return self.invoke(messages)

    def invoke(self, messages: list[dict[str, Any]]) -> Delivery:
        event = sqs_event(messages, queue_arn=self.queue_arn, region=self._region)
        response = self._handler(event, lambda_context(self.function, self._region))
        delivery = Delivery(event, response)
        self.deliveries.append(delivery)
        failed = set(delivery.failed_ids)
        for message in messages:
            if message["MessageId"] not in failed:
                self._sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return delivery
