"""The local SQS event source (`local.consumer.QueueConsumer`), driven one batch at a time by a
test, keeping every event it built and every answer the handler gave."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.consumer import QueueConsumer
from local.invoke import lambda_context, load_handler
from local.resources import LocalFunction, LocalResources


@dataclass
class Delivery:
    event: dict[str, Any]
    response: dict[str, Any]
    context: Any = None
    """The Lambda context the invocation had (its remaining time counts on)."""

    @property
    def message_ids(self) -> list[str]:
        return [record["messageId"] for record in self.event["Records"]]

    @property
    def failed_ids(self) -> list[str]:
        return [failure["itemIdentifier"] for failure in self.response["batchItemFailures"]]


class EventSource:
    """The template's event source mapping for `function`, as Lambda runs it."""

    def __init__(
        self, resources: LocalResources, function: LocalFunction, sqs: Any, region: str
    ) -> None:
        (source,) = [s for s in resources.queue_sources() if s.function_id == function.logical_id]
        self.queue_url = source.queue_url
        self.deliveries: list[Delivery] = []
        self._function = function
        self._region = region
        self._consumer = QueueConsumer(source, sqs, self._invoke, region, wait_seconds=0)
        self.timeout_seconds: int | None = None
        """When set, each invocation's timeout instead of the function's own."""

    def _invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        assert function_id == self._function.logical_id
        handler = load_handler(self._function.handler)
        context = lambda_context(self._function, self._region, timeout_seconds=self.timeout_seconds)
        response = handler(event, context)
        self.deliveries.append(Delivery(event, response, context))
        return response

    def poll_once(self) -> Delivery | None:
        """One receive and, when it returned messages, one invocation; None when nothing was
        visible. An invocation that raised fails the test."""
        delivered = len(self.deliveries)
        self._consumer.poll_once()
        assert not self._consumer.errors, self._consumer.errors
        return self.deliveries[-1] if len(self.deliveries) > delivered else None
