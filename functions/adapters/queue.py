"""The recordings queue: one message per recording, sent in batches of ten."""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.failures import QueueUnavailable
from functions.recordings.jobs import RecordingJob

_BATCH = 10


class SqsRecordingQueue:
    def __init__(self, sqs: AwsService, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def enqueue(self, jobs: Sequence[RecordingJob], *, deadline: float) -> None:
        for start in range(0, len(jobs), _BATCH):
            batch = jobs[start : start + _BATCH]
            try:
                response = self._sqs.call(
                    "send_message_batch",
                    deadline,
                    QueueUrl=self._queue_url,
                    Entries=[
                        {"Id": str(job.index), "MessageBody": job.to_message()} for job in batch
                    ],
                )
            except (ClientError, BotoCoreError) as error:
                raise QueueUnavailable(error_code(error)) from error
            if response.get("Failed"):
                raise QueueUnavailable(str(response["Failed"][0].get("Code", "BatchEntryFailed")))
