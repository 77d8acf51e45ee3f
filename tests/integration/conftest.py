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
class PostbackClient:
    """POSTs bodies to the real handler the template names, as API Gateway would."""

    function: LocalFunction
    token: str
    outputs: dict[str, str]
    sent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20), repr=False)

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

    def invoke(self, event: dict[str, Any], context: Any = None) -> Answer:
        """Hand `event` to the real handler as API Gateway would (with `context`, else a new
        one with the function's timeout), and read its answer."""
        self.sent.append(event)
        handler = load_handler(self.function.handler)
        response = handler(event, context or lambda_context(self.function, REGION))
        return Answer(
            status=response["statusCode"],
            body=json.loads(response["body"]),
            headers=response.get("headers", {}),
        )


def postback_client(
    resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostbackClient]:
    function = resources.function_for_handler(Handler.POSTBACK)
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    secret_arn = function.environment[Env.TOKEN_SECRET_ARN]
    token = aws("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    reset_function_state(keep_clients=True)
    yield PostbackClient(function, token, resources.outputs())
    reset_function_state(keep_clients=True)


@dataclass
class WebhookClient:
    """POSTs deliveries to the real webhooks handler the template names, signed with the stack's
    webhook secret unless told otherwise."""

    function: LocalFunction
    secret: str
    outputs: dict[str, str]
    sent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20), repr=False)

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


@pytest.fixture
def webhooks(
    resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebhookClient]:
    yield from webhook_client(resources, aws, monkeypatch)


def webhook_client(
    resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebhookClient]:
    function = resources.function_for_handler(Handler.WEBHOOKS)
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    secret_arn = function.environment[Env.WEBHOOK_SECRET_ARN]
    secret = aws("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    reset_function_state(keep_clients=True)
    yield WebhookClient(function, secret, resources.outputs())
    reset_function_state(keep_clients=True)


@pytest.fixture
def postback(
    resources: LocalResources, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostbackClient]:
    yield from postback_client(resources, aws, monkeypatch)
