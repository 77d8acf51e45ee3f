"""moto services built from the synthesized template, shared by the session, and a client that
calls the real postback handler with HTTP API v2 events."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.names import Env, Handler, Route
from functions.postback.signature import signature_of
from local.events import http_api_event
from local.invoke import lambda_context, load_handler, reset_function_state
from local.resources import LocalFunction, LocalResources, create_resources
from tests.helpers import REGION


@pytest.fixture(scope="session")
def moto_aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def resources(moto_aws: None, template: dict[str, Any]) -> LocalResources:
    session = boto3.session.Session(region_name=REGION)
    return create_resources(template, session.client, region=REGION, stack_name="test")


@pytest.fixture(scope="session")
def stewarded_resources(moto_aws: None, stewarded_template: dict[str, Any]) -> LocalResources:
    """A second stack on the same moto: retention on for every kind of data, a customer key."""
    session = boto3.session.Session(region_name=REGION)
    return create_resources(stewarded_template, session.client, region=REGION, stack_name="kept")


@pytest.fixture(scope="session")
def aws(moto_aws: None) -> Callable[[str], Any]:
    """Test-side clients, separate from the ones the handler uses."""
    session = boto3.session.Session(region_name=REGION)
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = session.client(service)
        return clients[service]

    return client


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class HandlerClient:
    """Hands events to the real handler of a function the template names, as API Gateway
    would, and reads its answers."""

    function: LocalFunction
    outputs: dict[str, str]
    sent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20), repr=False)

    def invoke(self, event: dict[str, Any], context: Any = None) -> Answer:
        """Hand `event` to the real handler (with `context`, else a new one)."""
        self.sent.append(event)
        handler = load_handler(self.function.handler)
        response = handler(event, context or lambda_context(self.function, REGION))
        return Answer(
            status=response["statusCode"],
            body=json.loads(response["body"]),
            headers=response.get("headers", {}),
        )

    @property
    def last_request_id(self) -> str:
        request_id: str = self.sent[-1]["requestContext"]["requestId"]
        return request_id


@dataclass
class PostbackClient(HandlerClient):
    """POSTs bodies to the real postback handler with the stack's token unless told otherwise."""

    token: str = ""

    def post(
        self,
        body: bytes,
        *,
        token: str | None = "",
        headers: dict[str, str] | None = None,
        query: str | None = None,
        context: Any = None,
    ) -> Answer:
        chosen = self.token if token == "" else token
        raw_query = (
            query if query is not None else (f"{Route.TOKEN_PARAMETER}={chosen}" if chosen else "")
        )
        event = http_api_event(
            method="POST",
            path=Route.POSTBACKS,
            raw_query=raw_query,
            headers={"content-type": "text/xml", **(headers or {})},
            body=body,
        )
        return self.invoke(event, context)


def serving(
    resources: LocalResources,
    aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    handler: str,
    secret_variable: str,
) -> tuple[LocalFunction, str]:
    """The function that runs `handler`, with its environment set as the template gives it and
    its state forgotten; and the value of the secret its `secret_variable` names."""
    function = resources.function_for_handler(handler)
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    secret_arn = function.environment[secret_variable]
    secret: str = aws("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    reset_function_state(keep_clients=True)
    return function, secret


def postback_client(
    resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostbackClient]:
    function, token = serving(resources, aws, monkeypatch, Handler.POSTBACK, Env.TOKEN_SECRET_ARN)
    yield PostbackClient(function, resources.outputs(), token=token)
    reset_function_state(keep_clients=True)


@dataclass
class WebhookClient(HandlerClient):
    """POSTs deliveries to the real webhooks handler, signed with the stack's webhook secret
    unless told otherwise."""

    secret: str = ""

    def post(
        self,
        body: bytes,
        *,
        signature: str | None = "",
        headers: dict[str, str] | None = None,
        context: Any = None,
    ) -> Answer:
        chosen = signature_of(self.secret, body) if signature == "" else signature
        event = http_api_event(
            method="POST",
            path=Route.WEBHOOKS,
            headers={
                "content-type": "application/json",
                **({Route.SIGNATURE_HEADER: chosen} if chosen is not None else {}),
                **(headers or {}),
            },
            body=body,
        )
        return self.invoke(event, context)


@pytest.fixture
def webhooks(
    resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebhookClient]:
    yield from webhook_client(resources, aws, monkeypatch)


def webhook_client(
    resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebhookClient]:
    function, secret = serving(
        resources, aws, monkeypatch, Handler.WEBHOOKS, Env.WEBHOOK_SECRET_ARN
    )
    yield WebhookClient(function, resources.outputs(), secret=secret)
    reset_function_state(keep_clients=True)


@pytest.fixture
def postback(
    resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostbackClient]:
    yield from postback_client(resources, aws, monkeypatch)
