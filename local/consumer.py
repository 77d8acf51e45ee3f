"""The local SQS event source: polls a queue and hands batches to the function the template's
event source mapping names, deleting what succeeded and leaving failures to SQS's own retries
(visibility timeout, then the dead-letter queue after its maxReceiveCount)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.events import sqs_event
from local.resources import QueueSource


class QueueConsumer:
    def __init__(
        self,
        source: QueueSource,
        sqs: Any,
        invoke: Callable[[str, dict[str, Any]], Any],
        region: str,
        *,
        wait_seconds: int = 1,
    ) -> None:
        self._source = source
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._wait_seconds = wait_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="queue-consumer")
        self.batches = 0
        self.errors: list[str] = []

    def start(self) -> QueueConsumer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=self._wait_seconds + 5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except (ClientError, BotoCoreError) as error:
                self.errors.append(repr(error))
                self._stopping.wait(1)

    def poll_once(self) -> int:
        messages = self._sqs.receive_message(
            QueueUrl=self._source.queue_url,
            MaxNumberOfMessages=min(self._source.batch_size, 10),
            WaitTimeSeconds=self._wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        self.batches += 1
        try:
            response = self._invoke(
                self._source.function_id,
                sqs_event(messages, self._source.queue_arn, self._region),
            )
        except Exception as error:  # a failed invocation leaves the whole batch to SQS's retries
            self.errors.append(repr(error))
            return len(messages)
        failed = self._failed_ids(response)
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self._source.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done[start : start + 10])
                ],
            )
        return len(messages)

    def _failed_ids(self, response: Any) -> set[str]:
        if not self._source.reports_item_failures or not isinstance(response, dict):
            return set()
        return {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
