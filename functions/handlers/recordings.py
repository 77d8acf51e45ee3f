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

from functions.handlers.logs import leave_out_what_lambda_says
from functions.names import METRICS_NAMESPACE, SERVICE_NAME, Metric
from functions.recordings.service import CopyOutcome, CopyResult, QueuedJob
from functions.wiring.recordings import ANSWER_SECONDS, recording_copier

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

_MESSAGE_KEYS = ["messageId", "attempt"]
_METRICS = {
    CopyResult.COPIED: Metric.RECORDINGS_COPIED,
    CopyResult.ALREADY_COPIED: Metric.RECORDINGS_ALREADY_COPIED,
    CopyResult.FAILED: Metric.RECORDINGS_FAILED,
    CopyResult.SKIPPED: Metric.RECORDINGS_SKIPPED,
    CopyResult.RETRYING: Metric.RECORDINGS_RETRIED,
    CopyResult.MALFORMED: Metric.RECORDING_JOBS_MALFORMED,
}


class NotCopiedYet(Exception):
    """Marks the record failed in the batch response, so that SQS keeps the message."""


def copy_recording(record: SQSRecord, lambda_context: LambdaContext) -> str:
    message = QueuedJob(record.body, record.receipt_handle, _receive_count(record))
    logger.append_keys(messageId=record.message_id, attempt=message.receive_count)
    try:
        outcome = recording_copier().handle(message, deadline=_deadline(lambda_context))
    finally:
        logger.remove_keys(_MESSAGE_KEYS)
    _record_metrics(outcome)
    if outcome.returns_to_queue:
        raise NotCopiedYet(outcome.result.value)
    return outcome.result.value


def _record_metrics(outcome: CopyOutcome) -> None:
    metrics.add_metric(name=_METRICS[outcome.result], unit=MetricUnit.Count, value=1)
    if outcome.result is CopyResult.COPIED and outcome.stored is not None:
        metrics.add_metric(
            name=Metric.RECORDING_BYTES_COPIED, unit=MetricUnit.Bytes, value=outcome.stored.size
        )


def _receive_count(record: SQSRecord) -> int:
    try:
        return int(record.attributes.approximate_receive_count)
    except (KeyError, TypeError, ValueError):
        return 1


def _deadline(context: LambdaContext) -> float:
    """When a message's outcome must be known: the invocation's remaining time, less the time
    to answer which messages failed."""
    return time.monotonic() + context.get_remaining_time_in_millis() / 1000 - ANSWER_SECONDS


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    leave_out_what_lambda_says(logger)
    metrics.clear_metrics()  # with POWERTOOLS_METRICS_DISABLED, Powertools never flushes them
    return dict(
        process_partial_response(
            event=event, record_handler=copy_recording, processor=processor, context=context
        )
    )
