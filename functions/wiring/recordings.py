"""The recordings service assembled from the environment the stack sets, and the time it needs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger

from functions.adapters.api_key import SecretApiKey, SecretCredentials
from functions.adapters.aws import NORMAL_TIER, attempt_seconds, aws_service
from functions.adapters.http_fetch import ApiKey, BasicAuth, FetchLimits, SafeFetcher
from functions.adapters.recording_entries import DynamoRecordingEntries
from functions.adapters.recording_states import CallfireRecordingStates
from functions.adapters.recording_store import ABORT_SECONDS, S3RecordingStore
from functions.adapters.visibility import SqsMessageVisibility
from functions.names import (
    CALLFIRE_DOMAIN,
    DEFAULT_CALLFIRE_V2_BASE_URL,
    DEFAULT_RECORDING_CONNECT_TIMEOUT,
    DEFAULT_RECORDING_MAX_BYTES,
    DEFAULT_RECORDING_MAX_RECEIVES,
    DEFAULT_RECORDING_READ_TIMEOUT,
    SERVICE_NAME,
    CallfireV2,
    Env,
)
from functions.recordings.policy import UrlPolicy, parse_origins, parse_stand_ins
from functions.recordings.service import RecordingCopier

logger = Logger(service=SERVICE_NAME)

ANSWER_SECONDS = 2.0
"""Kept back from the invocation's remaining time to answer the batch (which messages failed)."""
RESERVE_SECONDS = (
    ABORT_SECONDS + attempt_seconds("dynamodb", NORMAL_TIER) + attempt_seconds("sqs", NORMAL_TIER)
)
"""What a copy keeps back from its deadline: aborting its upload, recording the outcome on the
item, hiding the message for its back-off (one normal attempt each)."""


def worst_case_seconds(env: Mapping[str, str]) -> float:
    """The longest one message may need when everything is slow but answers: reading its entry
    and the API key or credentials, asking CallFire for a v2 recording's state, connecting to and
    waiting once for the recording, one upload attempt, then the reserve and the answer. The
    function's timeout must cover it."""
    limits = fetch_limits(env)
    return (
        attempt_seconds("dynamodb", NORMAL_TIER)
        + attempt_seconds("secretsmanager", NORMAL_TIER)
        + 2 * (limits.connect_timeout + limits.read_timeout)
        + attempt_seconds("s3", NORMAL_TIER)
        + RESERVE_SECONDS
        + ANSWER_SECONDS
    )


@cache
def recording_copier() -> RecordingCopier:
    env = os.environ
    fetcher = SafeFetcher(
        url_policy(env), fetch_limits(env), api_key=api_key(env), basic_auth=basic_auth(env)
    )
    recordings_url = v2_base_url(env) + CallfireV2.RECORDINGS_PATH
    return RecordingCopier(
        source=fetcher,
        store=S3RecordingStore(aws_service("s3"), env[Env.BUCKET]),
        entries=DynamoRecordingEntries(aws_service("dynamodb"), env[Env.CALLS_TABLE]),
        visibility=SqsMessageVisibility(aws_service("sqs"), env[Env.RECORDINGS_QUEUE_URL]),
        max_receives=int(env.get(Env.RECORDING_MAX_RECEIVES, DEFAULT_RECORDING_MAX_RECEIVES)),
        reserve_seconds=RESERVE_SECONDS,
        states=CallfireRecordingStates(fetcher, recordings_url),
        v2_recordings_url=recordings_url,
    )


def v2_base_url(env: Mapping[str, str]) -> str:
    return (env.get(Env.CALLFIRE_V2_BASE_URL) or DEFAULT_CALLFIRE_V2_BASE_URL).rstrip("/")


def url_policy(env: Mapping[str, str]) -> UrlPolicy:
    base_hosts = [
        host
        for host in (
            urlsplit(env.get(Env.CALLFIRE_BASE_URL, "")).hostname,
            urlsplit(v2_base_url(env)).hostname,
        )
        if host
    ]
    loopback_origins = parse_origins(env.get(Env.RECORDING_LOOPBACK_ORIGINS, ""))
    if loopback_origins:
        logger.warning(
            "loopback origins may be fetched over http: a test or local setting",
            extra={"origins": sorted(f"{host}:{port}" for host, port in loopback_origins)},
        )
    stand_ins = parse_stand_ins(env.get(Env.RECORDING_STAND_INS, ""))
    if stand_ins:
        logger.warning(
            "recordings of these hosts are fetched from a stand-in: a test or local setting",
            extra={"standIns": {host: f"{a}:{p}" for host, (a, p) in sorted(stand_ins.items())}},
        )
    return UrlPolicy(
        allowed_hosts=env[Env.RECORDING_HOSTS].split(","),
        callfire_hosts=(CALLFIRE_DOMAIN, *base_hosts),
        loopback_origins=loopback_origins,
        stand_ins=stand_ins,
    )


def fetch_limits(env: Mapping[str, str]) -> FetchLimits:
    return FetchLimits(
        connect_timeout=float(
            env.get(Env.RECORDING_CONNECT_TIMEOUT, DEFAULT_RECORDING_CONNECT_TIMEOUT)
        ),
        read_timeout=float(env.get(Env.RECORDING_READ_TIMEOUT, DEFAULT_RECORDING_READ_TIMEOUT)),
        max_bytes=int(env.get(Env.RECORDING_MAX_BYTES, DEFAULT_RECORDING_MAX_BYTES)),
    )


def api_key(env: Mapping[str, str]) -> ApiKey:
    secret_arn = env.get(Env.CALLFIRE_API_KEY_SECRET_ARN)
    if not secret_arn:
        return lambda _deadline: None
    return SecretApiKey(aws_service("secretsmanager"), secret_arn)


def basic_auth(env: Mapping[str, str]) -> BasicAuth:
    secret_arn = env.get(Env.CALLFIRE_API_CREDENTIALS_SECRET_ARN)
    if not secret_arn:
        return lambda _deadline: None
    return SecretCredentials(aws_service("secretsmanager"), secret_arn)
