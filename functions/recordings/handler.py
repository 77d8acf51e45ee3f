"""Lambda entry point for the recordings queue (SQS event source, partial batch responses)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.names import METRICS_NAMESPACE, SERVICE_NAME
from functions.recordings.backoff import retry_delay
from functions.recordings.jobs import RecordingJob
from functions.recordings.ports import RetryLater
from functions.recordings.service import Result
from functions.recordings.wiring import max_receives, message_visibility, recording_copier

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

DEADLINE_MARGIN_SECONDS = 15.0
"""Stop a transfer this long before the function times out, so that the batch still reports
which messages succeeded."""
_JOB_KEYS = ["callId", "eventType", "recording", "messageId", "attempt"]
_METRICS = {
    Result.COPIED: "RecordingsCopied",
    Result.ALREADY_COPIED: "RecordingsAlreadyCopied",
    Result.FAILED: "RecordingsFailed",
    Result.SKIPPED: "RecordingsSkipped",
}


class MalformedJob(ValueError):
    pass


def copy_recording(record: SQSRecord, lambda_context: LambdaContext) -> str:
    attempt = _receive_count(record)
    logger.append_keys(messageId=record.message_id, attempt=attempt)
    try:
        job = _job(record.body)
        logger.append_keys(callId=job.call_id, eventType=job.event_type, recording=job.index)
        outcome = recording_copier().copy(job, deadline=_deadline(lambda_context))
    except MalformedJob:
        logger.error("malformed job; it goes to the dead-letter queue")
        metrics.add_metric(name="RecordingJobsMalformed", unit=MetricUnit.Count, value=1)
        message_visibility().hide(record.receipt_handle, 0)
        raise
    except RetryLater as error:
        _retry_later(record, attempt, error.reason, error.retry_after)
        raise
    except Exception:
        logger.exception("unexpected failure copying a recording")
        _retry_later(record, attempt, "unexpected failure", None)
        raise
    finally:
        logger.remove_keys(_JOB_KEYS)
    metrics.add_metric(name=_METRICS[outcome.result], unit=MetricUnit.Count, value=1)
    if outcome.result is Result.COPIED and outcome.stored is not None:
        metrics.add_metric(
            name="RecordingBytesCopied", unit=MetricUnit.Bytes, value=outcome.stored.size
        )
    return outcome.result.value


def _retry_later(record: SQSRecord, attempt: int, reason: str, retry_after: float | None) -> None:
    delay = retry_delay(attempt, max_receives(), retry_after=retry_after)
    message_visibility().hide(record.receipt_handle, delay)
    metrics.add_metric(name="RecordingsRetried", unit=MetricUnit.Count, value=1)
    logger.warning(
        "recording not copied yet; the queue retries it",
        extra={"reason": reason, "retryInSeconds": delay, "maxAttempts": max_receives()},
    )


def _job(body: str) -> RecordingJob:
    try:
        job = RecordingJob.from_message(body)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MalformedJob(type(error).__name__) from None
    if job.index < 0 or not job.call_id or not job.event_type or not job.url:
        raise MalformedJob("incomplete job")
    return job


def _receive_count(record: SQSRecord) -> int:
    try:
        return int(record.attributes.approximate_receive_count)
    except (KeyError, TypeError, ValueError):
        return 1


def _deadline(context: LambdaContext) -> float:
    remaining = context.get_remaining_time_in_millis() / 1000
    return time.monotonic() + max(remaining - DEADLINE_MARGIN_SECONDS, 1.0)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.clear_metrics()  # with POWERTOOLS_METRICS_DISABLED, Powertools never flushes them
    return dict(
        process_partial_response(
            event=event, record_handler=copy_recording, processor=processor, context=context
        )
    )
