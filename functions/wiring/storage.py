"""Where reports go, as the postback and webhooks functions both assemble it from the environment
the stack sets: the tables (with the stack's retention, and bodies too large for their items in
the bucket) and the archive of bodies kept as received (indexed with the hash salt)."""

from __future__ import annotations

from collections.abc import Mapping

from functions.adapters.archive import S3BodyArchive
from functions.adapters.aws import aws_service
from functions.adapters.dynamodb import DynamoReportStore
from functions.adapters.raw_bodies import S3RawBodies
from functions.adapters.secrets import CachedSecret
from functions.names import Env
from functions.reports.items import Table
from functions.reports.retention import Retention


def report_store(env: Mapping[str, str]) -> DynamoReportStore:
    return DynamoReportStore(
        aws_service("dynamodb"),
        {Table.CALLS: env[Env.CALLS_TABLE], Table.CAMPAIGNS: env[Env.CAMPAIGNS_TABLE]},
        S3RawBodies(aws_service("s3"), env[Env.BUCKET]),
        Retention.from_setting(env.get(Env.REPORT_RETENTION_DAYS)),
    )


def body_archive(env: Mapping[str, str]) -> S3BodyArchive:
    salt_arn = env.get(Env.HASH_SALT_SECRET_ARN)
    return S3BodyArchive(
        aws_service("s3"),
        env[Env.BUCKET],
        salt=CachedSecret(aws_service("secretsmanager"), salt_arn) if salt_arn else None,
    )
