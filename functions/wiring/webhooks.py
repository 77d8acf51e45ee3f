"""The webhooks service assembled from the environment the stack sets."""

from __future__ import annotations

import os
from functools import cache

from functions.adapters.archive import S3BodyArchive
from functions.adapters.aws import LazyClient
from functions.adapters.dynamodb import DynamoReportStore
from functions.adapters.notifier import SnsAlarmNotifier
from functions.adapters.queue import SqsRecordingQueue
from functions.adapters.secrets import CachedSecret
from functions.names import DEFAULT_MAX_BODY_BYTES, Env
from functions.postback.webhooks import WebhookService
from functions.reports.items import Table


@cache
def webhook_service() -> WebhookService:
    env = os.environ
    archive = S3BodyArchive(LazyClient("s3"), env[Env.BUCKET])
    return WebhookService(
        secret=CachedSecret(LazyClient("secretsmanager"), env[Env.WEBHOOK_SECRET_ARN]),
        store=DynamoReportStore(
            LazyClient("dynamodb"),
            {Table.CALLS: env[Env.CALLS_TABLE], Table.CAMPAIGNS: env[Env.CAMPAIGNS_TABLE]},
        ),
        archive=archive,
        events=archive,
        queue=SqsRecordingQueue(LazyClient("sqs"), env[Env.RECORDINGS_QUEUE_URL]),
        notifier=SnsAlarmNotifier(LazyClient("sns"), env[Env.ALARM_TOPIC_ARN]),
        max_body_bytes=int(env.get(Env.MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES)),
    )
