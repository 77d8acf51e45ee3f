"""The whole system on this machine, from the synthesized template: moto (a real server), the
stateful resources the template declares, a local API Gateway calling the functions it names, the
SQS and DynamoDB stream event sources, a stand-in CallFire, the registration custom resource run as
a Create, and a local-only queue that watches the event bus.

One LocalSystem per process: the functions run in-process and share its environment.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from moto.server import ThreadedMotoServer

from functions.names import (
    CALLFIRE_DOMAIN,
    DEFAULT_STAGE,
    CallfireApiChoice,
    CallfireCredentials,
    Context,
    Env,
    Handler,
    LocalEndpoint,
    Output,
    Route,
    SubscriptionResource,
    WebhookResource,
)
from functions.names import stack_name as stack_name_of
from local.bus import watch_bus
from local.callfire import LOCAL_PASSWORD, LOCAL_USERNAME, StandInCallFire
from local.consumer import QueueConsumer
from local.events import custom_resource_event
from local.gateway import LocalGateway
from local.invoke import load_handler, reset_function_state
from local.logs import FunctionLogs, Observer
from local.resources import LocalResources, create_resources
from local.runner import FunctionRunner, merged_environment, patched_environment
from local.streams import StreamConsumer
from local.template import ROOT, synthesize
from tools.target import Target, client_config

ENDPOINTS_FILE = ROOT / ".local" / "endpoints.json"
REGION = "us-east-1"
STACK_NAME = stack_name_of(DEFAULT_STAGE)
LOCAL_API_KEY = "local-api-key"
"""A stand-in API key for the stand-in CallFire; it guards nothing."""


@dataclass(frozen=True)
class Ports:
    moto: int = 5500
    gateway: int = 8080
    callfire: int = 8081

    @classmethod
    def free(cls) -> Ports:
        return cls(moto=free_port(), gateway=free_port(), callfire=free_port())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def api_key_secret_name(stack_name: str) -> str:
    return f"{stack_name}/callfire-api-key"


def credentials_secret_name(stack_name: str) -> str:
    return f"{stack_name}/callfire-api-credentials"


def local_context(
    callfire_url: str, stack_name: str = STACK_NAME, stage: str = DEFAULT_STAGE
) -> dict[str, Any]:
    """What the local system changes in cdk.json's context: the stage, CallFire (both
    generations) is the stand-in, the stack registers with both, and the stand-in's host may
    serve recordings."""
    return {
        Context.STAGE: stage,
        Context.CALLFIRE_BASE_URL: callfire_url,
        Context.CALLFIRE_V2_BASE_URL: callfire_url,
        Context.CALLFIRE_API: CallfireApiChoice.BOTH,
        Context.CALLFIRE_API_KEY_SECRET_NAME: api_key_secret_name(stack_name),
        Context.CALLFIRE_API_CREDENTIALS_SECRET_NAME: credentials_secret_name(stack_name),
        Context.RECORDING_HOSTS: [CALLFIRE_DOMAIN, urlsplit(callfire_url).hostname],
    }


def _quiet(_: str) -> None:
    return None


class LocalSystem:
    def __init__(
        self,
        ports: Ports | None = None,
        *,
        endpoints_file: Path | None = ENDPOINTS_FILE,
        progress: Callable[[str], None] = _quiet,
        extra_environment: dict[str, str] | None = None,
        stage: str = DEFAULT_STAGE,
        stack_name: str | None = None,
        log: Observer | None = None,
    ) -> None:
        """`stage` is the stack's `stage` context (the stack's name follows it, as on AWS);
        `stack_name` overrides that name, which prefixes every resource's name: moto keeps its
        state for the life of the process, so a second system in one process needs a name of
        its own. `log`, when given, is told of each invocation (`local.logs`) instead of the
        functions' JSON lines being printed."""
        self.ports = ports or Ports()
        self.region = REGION
        self.stage = stage
        self.stack_name = stack_name or stack_name_of(stage)
        self._endpoints_file = endpoints_file
        self._progress = progress
        self._extra_environment = extra_environment or {}
        self._log = log
        self._cleanups: list[Callable[[], None]] = []
        self.endpoint_url = f"http://127.0.0.1:{self.ports.moto}"
        self._session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=self.region
        )
        self.consumers: list[QueueConsumer] = []
        self.streams: list[StreamConsumer] = []
        self.registrations: list[dict[str, Any]] = []

    def client(self, service: str) -> Any:
        return self._session.client(
            service, endpoint_url=self.endpoint_url, config=client_config(service)
        )

    def target(self) -> Target:
        """What the tools (query, replay) work on, for this system."""
        return Target(
            session=self._session,
            endpoint_url=self.endpoint_url,
            calls_table=self.endpoints[LocalEndpoint.CALLS_TABLE],
            campaigns_table=self.endpoints[LocalEndpoint.CAMPAIGNS_TABLE],
            bucket=self.endpoints[LocalEndpoint.BUCKET],
            recordings_queue=self.endpoints[LocalEndpoint.RECORDINGS_QUEUE],
            description=f"local, stage {self.stage} ({self.endpoint_url})",
            stage=self.stage,
            endpoints=self.endpoints,
            report_retention_days=int(self.endpoints[LocalEndpoint.REPORT_RETENTION_DAYS]),
            hash_salt_secret=self.endpoints[LocalEndpoint.HASH_SALT_SECRET],
        )

    def __enter__(self) -> LocalSystem:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> LocalSystem:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._progress(f"starting the stand-in CallFire on port {self.ports.callfire}")
        self.callfire = StandInCallFire(port=self.ports.callfire).start()
        self._cleanups.append(self.callfire.stop)
        self._progress("synthesizing the stack (cdk-nag on)")
        self.template = synthesize(local_context(self.callfire.url, self.stack_name, self.stage))
        self._progress(f"starting moto on port {self.ports.moto}")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.ports.moto, verbose=False)
        moto.start()
        self._cleanups.append(moto.stop)
        self._progress("creating the template's tables, bucket, queues and secrets")
        self.client("secretsmanager").create_secret(
            Name=api_key_secret_name(self.stack_name), SecretString=LOCAL_API_KEY
        )
        self.client("secretsmanager").create_secret(
            Name=credentials_secret_name(self.stack_name),
            SecretString=json.dumps(
                {
                    CallfireCredentials.USERNAME: LOCAL_USERNAME,
                    CallfireCredentials.PASSWORD: LOCAL_PASSWORD,
                }
            ),
        )
        self.resources: LocalResources = create_resources(
            self.template, self.client, region=self.region, stack_name=self.stack_name
        )
        self._enter(patched_environment(self._process_environment()))
        reset_function_state()
        self._cleanups.append(reset_function_state)
        for function in self.resources.functions().values():
            load_handler(function.handler)
        logs = FunctionLogs(observe=self._log, json_lines=self._log is None).install()
        self._cleanups.append(logs.uninstall)
        self.runner = FunctionRunner(self.resources.functions(), self.region, logs=logs)
        self.gateway = LocalGateway.for_routes(
            self.resources.http_routes(), self.runner.invoke, port=self.ports.gateway
        ).start()
        self._cleanups.append(self.gateway.stop)
        self._progress(f"serving the API on {self.gateway.url}")
        for source in self.resources.queue_sources():
            consumer = QueueConsumer(source, self.client("sqs"), self.runner.invoke, self.region)
            self.consumers.append(consumer.start())
            self._cleanups.append(consumer.stop)
        self.events_queue = self._watch_events()
        for stream_source in self.resources.stream_sources():
            stream = StreamConsumer(
                stream_source,
                self.client("dynamodbstreams"),
                self.client("sqs"),
                self.runner.invoke,
                self.region,
            )
            self.streams.append(stream.start())
            self._cleanups.append(stream.stop)
        self._register()
        self.endpoints = self._endpoints()
        if self._endpoints_file is not None:
            self._endpoints_file.parent.mkdir(exist_ok=True)
            self._endpoints_file.write_text(json.dumps(self.endpoints, indent=2) + "\n")
            self._cleanups.append(lambda: self._endpoints_file.unlink(missing_ok=True))  # type: ignore[union-attr]

    def _enter(self, context: AbstractContextManager[Any]) -> None:
        context.__enter__()
        self._cleanups.append(lambda: context.__exit__(None, None, None))

    def _process_environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            **merged_environment(self.resources.functions()),
            # The stand-in speaks http on loopback; only its exact host:port is let through.
            Env.RECORDING_LOOPBACK_ORIGINS: urlsplit(self.callfire.url).netloc,
            # CallFire's own recording URLs (as its samples print them) are served by the stand-in.
            Env.RECORDING_STAND_INS: f"{CALLFIRE_DOMAIN}={urlsplit(self.callfire.url).netloc}",
            **self._extra_environment,
        }

    def _watch_events(self) -> str:
        events = self.resources.function_for_handler(Handler.EVENTS)
        self._progress("watching the event bus with a local-only queue")
        return watch_bus(
            self.client,
            bus_name=self.resources.outputs()[Output.EVENT_BUS_NAME],
            source=events.environment[Env.EVENT_SOURCE],
            queue_name=f"{self.stack_name}-events-watch",
        )

    def _register(self) -> None:
        """Run each custom resource as CloudFormation would on the first deploy, with one change:
        the postback and webhook URLs it registers are this machine's gateway, not the
        template's API."""
        for resource in self.resources.custom_resources():
            self._progress(f"running {resource.resource_type} ({resource.logical_id}) as a Create")
            properties = dict(resource.properties)
            if SubscriptionResource.POSTBACK_URL in properties:
                properties[SubscriptionResource.POSTBACK_URL] = self.gateway.url + Route.POSTBACKS
            if WebhookResource.WEBHOOK_URL in properties:
                properties[WebhookResource.WEBHOOK_URL] = self.webhook_url
            event = custom_resource_event(
                "Create",
                properties,
                logical_id=resource.logical_id,
                resource_type=resource.resource_type,
            )
            self.registrations.append(self.runner.invoke(resource.function.logical_id, event))

    @property
    def webhook_url(self) -> str:
        return self.gateway.url + Route.WEBHOOKS

    def _endpoints(self) -> dict[str, str]:
        outputs = self.resources.outputs()
        postback = self.resources.function_for_handler(Handler.POSTBACK)
        secrets = self.client("secretsmanager")
        token = secrets.get_secret_value(SecretId=postback.environment[Env.TOKEN_SECRET_ARN])[
            "SecretString"
        ]
        webhooks = self.resources.function_for_handler(Handler.WEBHOOKS)
        webhook_secret = secrets.get_secret_value(
            SecretId=webhooks.environment[Env.WEBHOOK_SECRET_ARN]
        )["SecretString"]
        return {
            LocalEndpoint.ENDPOINT_URL: self.endpoint_url,
            LocalEndpoint.REGION: self.region,
            LocalEndpoint.POSTBACK_URL: (
                f"{self.gateway.url}{Route.POSTBACKS}?{Route.TOKEN_PARAMETER}={token}"
            ),
            LocalEndpoint.CALLS_TABLE: outputs[Output.CALLS_TABLE],
            LocalEndpoint.CAMPAIGNS_TABLE: outputs[Output.CAMPAIGNS_TABLE],
            LocalEndpoint.BUCKET: outputs[Output.BUCKET],
            LocalEndpoint.RECORDINGS_QUEUE: postback.environment[Env.RECORDINGS_QUEUE_URL],
            LocalEndpoint.DEAD_LETTER_QUEUE: outputs[Output.DEAD_LETTER_QUEUE],
            LocalEndpoint.CALLFIRE_URL: self.callfire.url,
            LocalEndpoint.STAGE: self.stage,
            LocalEndpoint.EVENT_BUS: outputs[Output.EVENT_BUS_NAME],
            LocalEndpoint.EVENT_SOURCE: self.resources.function_for_handler(
                Handler.EVENTS
            ).environment[Env.EVENT_SOURCE],
            LocalEndpoint.EVENTS_QUEUE: self.events_queue,
            LocalEndpoint.EVENTS_DEAD_LETTER_QUEUE: outputs[Output.EVENTS_DEAD_LETTER_QUEUE],
            LocalEndpoint.WEBHOOK_URL: self.webhook_url,
            LocalEndpoint.WEBHOOK_SECRET: webhook_secret,
            LocalEndpoint.REPORT_RETENTION_DAYS: outputs[Output.REPORT_RETENTION_DAYS],
            LocalEndpoint.HASH_SALT_SECRET: outputs[Output.HASH_SALT_SECRET_ARN],
        }

    def stop(self) -> None:
        while self._cleanups:
            cleanup = self._cleanups.pop()
            try:
                cleanup()
            except Exception as error:  # keep stopping the rest
                self._progress(f"while stopping: {error!r}")
