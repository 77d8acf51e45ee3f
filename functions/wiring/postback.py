"""The postback service assembled from the environment the stack sets, and the time it needs."""

from __future__ import annotations

import os
from functools import cache

from functions.adapters.aws import NORMAL_TIER, SHORT_TIER, attempt_seconds, aws_service
from functions.adapters.queue import SqsRecordingQueue
from functions.adapters.secrets import CachedSecret
from functions.names import DEFAULT_MAX_BODY_BYTES, Env
from functions.postback.service import PostbackService
from functions.wiring.storage import body_archive, report_store

ANSWER_SECONDS = 0.5
"""Kept back from the invocation's remaining time to answer, log and publish the metrics."""
ARCHIVE_SECONDS = attempt_seconds("s3", SHORT_TIER)
"""Kept back from the work for archiving a body that could not be stored: one short attempt."""


def worst_case_seconds() -> float:
    """The longest a request may need when AWS is slow but answers: one normal attempt of every
    call on its way (the token, a body kept in the bucket, the item, the recordings' jobs), then
    the archive's reserve and the answer. The function's timeout must cover it."""
    calls = ("secretsmanager", "s3", "dynamodb", "sqs")
    return (
        sum(attempt_seconds(service, NORMAL_TIER) for service in calls)
        + ARCHIVE_SECONDS
        + ANSWER_SECONDS
    )


@cache
def postback_service() -> PostbackService:
    env = os.environ
    return PostbackService(
        token=CachedSecret(aws_service("secretsmanager"), env[Env.TOKEN_SECRET_ARN]),
        store=report_store(env),
        archive=body_archive(env),
        queue=SqsRecordingQueue(aws_service("sqs"), env[Env.RECORDINGS_QUEUE_URL]),
        max_body_bytes=int(env.get(Env.MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES)),
        archive_seconds=ARCHIVE_SECONDS,
    )
