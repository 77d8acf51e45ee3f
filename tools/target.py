"""Where the tools work: the local system (`.local/endpoints.json`) or the deployed stack (your
AWS credentials, names from the stack's outputs). The same code serves both."""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService
from functions.adapters.raw_bodies import S3RawBodies
from functions.names import DEFAULT_STAGE, Item, LocalEndpoint, Output, stack_name
from tools.cli import default

ENDPOINTS_FILE = Path(__file__).resolve().parent.parent / ".local" / "endpoints.json"
DEFAULT_STACK = stack_name(DEFAULT_STAGE)
CALL_SECONDS = 60.0
"""How long a tool waits for one AWS call (its attempts included) before it gives up."""


def soon() -> float:
    """A deadline for one call of a tool (a time.monotonic() value)."""
    return time.monotonic() + CALL_SECONDS


STREAMS_CONFIG = Config(account_id_endpoint_mode="disabled")
"""For dynamodbstreams clients: with botocore 1.44, account-id based endpoints make moto answer
`Not yet implemented`; AWS serves the regional endpoint either way."""


def client_config(service: str) -> Config | None:
    return STREAMS_CONFIG if service == "dynamodbstreams" else None


class TargetError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    session: Any
    endpoint_url: str | None
    calls_table: str
    campaigns_table: str
    bucket: str | None
    recordings_queue: str | None
    description: str
    stack_name: str | None = None
    """The deployed stack's name; None for the local system."""
    stage: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    """The deployed stack's outputs (Output), every one of them."""
    endpoints: Mapping[str, Any] = field(default_factory=dict)
    """The local system's `.local/endpoints.json` (LocalEndpoint), every key of it."""
    report_retention_days: int = 0
    """What the stack writes items with (`reportRetentionDays`): the replay tool does the same."""
    hash_salt_secret: str | None = None
    """The secret keying the archive index's phone-number hashes (the erasure tool reads it)."""

    def client(self, service: str) -> Any:
        config = client_config(service)
        options = {"config": config} if config is not None else {}
        return self.session.client(service, endpoint_url=self.endpoint_url, **options)

    def service(self, service: str) -> AwsService:
        """`service` as the functions' adapters call it."""
        return AwsService.over(self.client(service))

    def raw_bodies(self) -> S3RawBodies:
        if self.bucket is None:
            raise TargetError("the target names no bucket")
        return S3RawBodies(self.service("s3"), self.bucket)

    def with_body(self, item: dict[str, Any]) -> dict[str, Any]:
        """`item` with its body as `raw`, read from the bucket when the item names it there."""
        key = item.get(Item.RAW_S3_KEY)
        if Item.RAW in item or not isinstance(key, str):
            return item
        return {**item, Item.RAW: self.raw_bodies().text(key, deadline=soon())}

    @property
    def local(self) -> bool:
        return self.stack_name is None

    @property
    def events_dead_letter_queue(self) -> str | None:
        return self.outputs.get(Output.EVENTS_DEAD_LETTER_QUEUE) or self.endpoints.get(
            LocalEndpoint.EVENTS_DEAD_LETTER_QUEUE
        )

    @property
    def event_bus(self) -> str | None:
        """The bus events are published on, for the local system; None for a deployed stack,
        whose events function's configuration names it (and its source)."""
        return self.endpoints.get(LocalEndpoint.EVENT_BUS)

    @property
    def event_source(self) -> str | None:
        return self.endpoints.get(LocalEndpoint.EVENT_SOURCE)


def local_target(path: Path = ENDPOINTS_FILE, stage: str | None = None) -> Target:
    """The local system `path` describes; with `stage`, it must run that stage."""
    try:
        endpoints = json.loads(path.read_text())
    except FileNotFoundError:
        raise TargetError(
            f"{path} does not exist: start the local system with `make local`"
        ) from None
    running = endpoints.get(LocalEndpoint.STAGE, DEFAULT_STAGE)
    if stage is not None and stage != running:
        raise TargetError(
            f"the local system in {path} runs stage {running!r}, not {stage!r}: start it with "
            f"`make local ARGS='--stage {stage} --endpoints-file ...'` and pass --endpoints"
        )
    session = boto3.session.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name=endpoints[LocalEndpoint.REGION],
    )
    return Target(
        session=session,
        endpoint_url=endpoints[LocalEndpoint.ENDPOINT_URL],
        calls_table=endpoints[LocalEndpoint.CALLS_TABLE],
        campaigns_table=endpoints[LocalEndpoint.CAMPAIGNS_TABLE],
        bucket=endpoints.get(LocalEndpoint.BUCKET),
        recordings_queue=endpoints.get(LocalEndpoint.RECORDINGS_QUEUE),
        description=f"local, stage {running} ({endpoints[LocalEndpoint.ENDPOINT_URL]})",
        stage=running,
        endpoints=endpoints,
        report_retention_days=int(endpoints.get(LocalEndpoint.REPORT_RETENTION_DAYS) or 0),
        hash_salt_secret=endpoints.get(LocalEndpoint.HASH_SALT_SECRET),
    )


def aws_target(
    stack_name: str = DEFAULT_STACK, region: str | None = None, stage: str | None = None
) -> Target:
    """The deployed stack, in `region` (else AWS_REGION, else what boto3 finds: AWS_DEFAULT_REGION,
    your profile)."""
    session = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION") or None)
    if session.region_name is None:
        raise TargetError("no AWS region: pass --region or set AWS_REGION")
    try:
        (stack,) = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"cannot read the outputs of stack {stack_name!r}: {error}") from None
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return Target(
        session=session,
        endpoint_url=None,
        calls_table=outputs[Output.CALLS_TABLE],
        campaigns_table=outputs[Output.CAMPAIGNS_TABLE],
        bucket=outputs.get(Output.BUCKET),
        recordings_queue=outputs.get(Output.RECORDINGS_QUEUE),
        description=f"AWS stack {stack_name} ({session.region_name})",
        stack_name=stack_name,
        stage=stage or _stage_in(stack.get("Description", "")),
        outputs=outputs,
        report_retention_days=int(outputs.get(Output.REPORT_RETENTION_DAYS) or 0),
        hash_salt_secret=outputs.get(Output.HASH_SALT_SECRET_ARN),
    )


def _stage_in(description: str) -> str | None:
    """The stage the stack's description names (infra/stack.py: `... (stage prod).`)."""
    found = re.search(r"\(stage ([a-z0-9-]+)\)", description)
    return found.group(1) if found else None


def add_target_arguments(parser: argparse.ArgumentParser, top: bool = True) -> None:
    """The options that choose the target; accepted before or after a tool's command."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--local", action="store_true", default=default(False, top), help="use the local system"
    )
    where.add_argument(
        "--aws", action="store_true", default=default(False, top), help="use the deployed stack"
    )
    parser.add_argument(
        "--stage",
        default=default(None, top),
        help=f"the stage: with --aws its stack (CallfireReceiver for {DEFAULT_STAGE}, else "
        "CallfireReceiver-<stage>); locally, the stage the local system must run",
    )
    parser.add_argument(
        "--stack",
        default=default(None, top),
        help=f"stack name with --aws (default: the stage's, {DEFAULT_STACK})",
    )
    parser.add_argument(
        "--region",
        default=default(None, top),
        help="AWS region (with --aws; default AWS_REGION, then your AWS configuration)",
    )
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=default(ENDPOINTS_FILE, top),
        help="the local system's endpoints file",
    )


def chosen_target(options: Any) -> Target:
    """Local when asked, or when the local system runs and AWS was not asked for."""
    if options.local or (not options.aws and options.endpoints.exists()):
        return local_target(options.endpoints, options.stage)
    return aws_target(
        options.stack or stack_name(options.stage or DEFAULT_STAGE), options.region, options.stage
    )


def dead_letter_queues(target: Target) -> dict[str, str]:
    """Every dead-letter queue of the target, by the name that gives it: each stack output named
    `...DeadLetterQueueUrl`, or each endpoints-file key named `...dead_letter_queue` (a function
    added later with a dead-letter queue of its own names it the same way)."""
    named = (
        (target.endpoints, LocalEndpoint.DEAD_LETTER_QUEUE)
        if target.local
        else (target.outputs, Output.DEAD_LETTER_QUEUE)
    )
    found, suffix = named
    return {name: str(url) for name, url in sorted(found.items()) if name.endswith(suffix) and url}


_deserializer = TypeDeserializer()


def items(dynamodb: Any, operation: str, **arguments: Any) -> Iterator[dict[str, Any]]:
    """Every item a DynamoDB `query` or `scan` returns, page after page, as plain values."""
    for page in dynamodb.get_paginator(operation).paginate(**arguments):
        for item in page.get("Items", []):
            yield plain_item(item)


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's wire format as plain values."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
