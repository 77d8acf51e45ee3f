"""The webhooks service assembled from the environment the stack sets, and the time it needs."""

from __future__ import annotations

import os
from functools import cache

from functions.adapters.aws import NORMAL_TIER, SHORT_TIER, attempt_seconds, aws_service
from functions.adapters.notifier import SnsAlarmNotifier
from functions.adapters.queue import SqsRecordingQueue
from functions.adapters.secrets import CachedSecret
from functions.names import DEFAULT_MAX_BODY_BYTES, Env
from functions.postback.webhooks import WebhookService
from functions.wiring.storage import body_archive, report_store

ANSWER_SECONDS = 0.5
"""Kept back from the invocation's remaining time to answer, log and publish the metrics."""
ARCHIVE_SECONDS = attempt_seconds("s3", SHORT_TIER)
"""Kept back from the work for archiving a delivery that could not be stored: one short attempt."""


def worst_case_seconds() -> float:
    """The longest a one-event delivery may need when AWS is slow but answers: one normal attempt
    of every call on its way (the secret, a body kept in the bucket, the item, the recordings'
    jobs), then the archive's reserve and the answer. The function's timeout must cover it; a
    delivery with more events, or a merge (a read and a conditional write more), may run out of
    time: its body is then kept in unstored/ and CallFire, answered 503, sends it again."""
    calls = ("secretsmanager", "s3", "dynamodb", "sqs")
    return (
        sum(attempt_seconds(service, NORMAL_TIER) for service in calls)
        + ARCHIVE_SECONDS
        + ANSWER_SECONDS
    )


@cache
def webhook_service() -> WebhookService:
    env = os.environ
    archive = body_archive(env)
    return WebhookService(
        secret=CachedSecret(aws_service("secretsmanager"), env[Env.WEBHOOK_SECRET_ARN]),
        store=report_store(env),
        archive=archive,
        events=archive,
        queue=SqsRecordingQueue(aws_service("sqs"), env[Env.RECORDINGS_QUEUE_URL]),
        notifier=SnsAlarmNotifier(aws_service("sns"), env[Env.ALARM_TOPIC_ARN]),
        max_body_bytes=int(env.get(Env.MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES)),
        archive_seconds=ARCHIVE_SECONDS,
    )
