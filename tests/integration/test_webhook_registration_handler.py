"""The real webhook registration handler, as the Provider framework invokes it, against the
stand-in CallFire's v2 webhooks API over real HTTP and moto Secrets Manager: the webhook secret
created from the synthesized template, the credentials secret by its configured name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from functions.names import WEBHOOK_SUBSCRIPTIONS, Env, Handler, Metric
from functions.names import WebhookResource as Prop
from functions.webhook_registration.manager import RetryPolicy
from functions.webhook_registration.registration import RegistrationFailed
from functions.wiring import webhook_registration as wiring
from local.callfire import LOCAL_PASSWORD, LOCAL_USERNAME, StandInCallFire
from local.events import custom_resource_event
from local.invoke import lambda_context, load_handler, reset_function_state
from local.resources import CustomResource, LocalResources, create_resources
from tests.conftest import V2_CONTEXT
from tests.helpers import REGION

FAST = RetryPolicy(attempts=2, first_backoff_seconds=0.01, max_backoff_seconds=0.02)
CALLBACK = "https://receiver.example/webhooks"


@pytest.fixture(scope="module")
def v2_resources(moto_aws: None, v2_template: dict[str, Any]) -> LocalResources:
    session = boto3.session.Session(region_name=REGION)
    resources = create_resources(v2_template, session.client, region=REGION, stack_name="v2reg")
    secrets = session.client("secretsmanager")
    value = json.dumps({"username": LOCAL_USERNAME, "password": LOCAL_PASSWORD})
    name = V2_CONTEXT["callfireApiCredentialsSecretName"]
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=value)
    return resources


@dataclass
class Registration:
    resource: CustomResource
    callfire: StandInCallFire

    @property
    def properties(self) -> dict[str, Any]:
        return {
            **self.resource.properties,
            Prop.CALLFIRE_V2_BASE_URL: self.callfire.url,
            Prop.WEBHOOK_URL: CALLBACK,
        }

    def invoke(self, request_type: str, **changes: Any) -> dict[str, Any]:
        old = self.properties if request_type == "Update" else None
        event = custom_resource_event(
            request_type,
            {**self.properties, **changes},
            old_properties=old,
            physical_resource_id="callfire-webhooks-x" if request_type != "Create" else None,
            logical_id=self.resource.logical_id,
            resource_type=self.resource.resource_type,
        )
        handler = load_handler(self.resource.function.handler)
        result: dict[str, Any] = handler(event, lambda_context(self.resource.function, REGION))
        return result


@pytest.fixture
def registration(
    v2_resources: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Registration]:
    (resource,) = [
        found
        for found in v2_resources.custom_resources()
        if found.resource_type == Prop.RESOURCE_TYPE
    ]
    monkeypatch.setattr(wiring, "POLICY", FAST)
    reset_function_state()
    with StandInCallFire() as callfire:
        yield Registration(resource, callfire)
    reset_function_state()


def test_create_registers_every_webhook_with_the_stack_s_secret(
    registration: Registration, aws: Any
) -> None:
    answer = registration.invoke("Create")

    webhooks = list(registration.callfire.webhooks.values())
    assert sorted(w["resource"] for w in webhooks) == sorted(WEBHOOK_SUBSCRIPTIONS)
    secret = aws("secretsmanager").get_secret_value(
        SecretId=registration.resource.properties[Prop.WEBHOOK_SECRET_ARN]
    )["SecretString"]
    for webhook in webhooks:
        assert (
            webhook["name"]
            == f"{registration.resource.properties[Prop.NAME_PREFIX]}-{webhook['resource']}"
        )
        assert (webhook["callback"], webhook["secret"]) == (CALLBACK, secret)
        assert (webhook["enabled"], webhook["singleUse"]) == (True, False)
    assert answer["Data"][Prop.WEBHOOK_URL] == CALLBACK
    for request in registration.callfire.requests:
        assert request.headers["Authorization"].startswith("Basic ")


def test_create_twice_keeps_one_webhook_per_resource(registration: Registration) -> None:
    registration.invoke("Create")
    registration.invoke("Create")

    assert len(registration.callfire.webhooks) == len(WEBHOOK_SUBSCRIPTIONS)
    methods = [request.method for request in registration.callfire.requests]
    assert methods.count("POST") == len(WEBHOOK_SUBSCRIPTIONS)
    assert methods.count("PUT") == len(WEBHOOK_SUBSCRIPTIONS)


def test_an_update_that_changes_nothing_makes_no_call(registration: Registration) -> None:
    registration.invoke("Create")
    registration.callfire.requests.clear()

    registration.invoke("Update")

    assert registration.callfire.requests == []


def test_delete_removes_them_and_an_outage_never_blocks_it(
    registration: Registration, log_output: list[str]
) -> None:
    registration.invoke("Create")
    registration.invoke("Delete")
    assert registration.callfire.webhooks == {}

    registration.invoke("Create")
    registration.callfire.stop()
    answer = registration.invoke("Delete")

    assert answer["PhysicalResourceId"] == "callfire-webhooks-x"
    assert any("stay in CallFire" in line for line in log_output)


def test_wrong_credentials_fail_the_deployment_without_any_secret(
    registration: Registration, aws: Any
) -> None:
    name = V2_CONTEXT["callfireApiCredentialsSecretName"]
    aws("secretsmanager").put_secret_value(
        SecretId=name, SecretString=json.dumps({"username": "who", "password": "wrong-pass"})
    )
    reset_function_state()
    try:
        with pytest.raises(RegistrationFailed) as failed:
            registration.invoke("Create")
    finally:
        aws("secretsmanager").put_secret_value(
            SecretId=name,
            SecretString=json.dumps({"username": LOCAL_USERNAME, "password": LOCAL_PASSWORD}),
        )

    assert "HTTP 401" in str(failed.value)
    assert "wrong-pass" not in str(failed.value)


# The hourly health check, through its real handler, against the same stand-in.


def health(
    v2_resources: LocalResources,
    registration: Registration,
    monkeypatch: pytest.MonkeyPatch,
    *,
    repair: bool,
) -> dict[str, Any]:
    function = v2_resources.function_for_handler(Handler.WEBHOOK_HEALTH)
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(Env.CALLFIRE_V2_BASE_URL, registration.callfire.url)
    monkeypatch.setenv(Env.WEBHOOK_URL, CALLBACK)
    monkeypatch.setenv(Env.REPAIR_WEBHOOKS, "true" if repair else "false")
    monkeypatch.setenv(
        Env.WEBHOOK_SECRET_ARN, registration.resource.properties[Prop.WEBHOOK_SECRET_ARN]
    )
    reset_function_state()
    handler = load_handler(function.handler)
    result: dict[str, Any] = handler(
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        lambda_context(function, REGION),
    )
    return result


def published(capsys: pytest.CaptureFixture[str], metric: str) -> list[float]:
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    return [blob[metric] for blob in blobs if metric in blob]


def test_health_publishes_how_many_webhooks_are_wrong(
    registration: Registration,
    v2_resources: LocalResources,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registration.invoke("Create")
    healthy = health(v2_resources, registration, monkeypatch, repair=False)
    assert published(capsys, Metric.WEBHOOKS_UNHEALTHY) == [[0.0]]
    webhooks = registration.callfire.webhooks
    (outbound,) = [i for i, w in webhooks.items() if w["resource"] == "OutboundCall"]
    (balance,) = [i for i, w in webhooks.items() if w["resource"] == "LowBalance"]
    del webhooks[outbound]
    webhooks[balance]["enabled"] = False

    found = health(v2_resources, registration, monkeypatch, repair=False)

    assert healthy["unhealthy"] == {}
    assert sorted(found["unhealthy"].values()) == [["disabled"], ["missing"]]
    assert published(capsys, Metric.WEBHOOKS_UNHEALTHY) == [[2.0]]
    assert len(registration.callfire.webhooks) == len(WEBHOOK_SUBSCRIPTIONS) - 1


def test_health_repairs_when_asked(
    registration: Registration,
    v2_resources: LocalResources,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    aws: Any,
) -> None:
    registration.invoke("Create")
    webhooks = registration.callfire.webhooks
    (outbound,) = [i for i, w in webhooks.items() if w["resource"] == "OutboundCall"]
    del webhooks[outbound]

    repaired = health(v2_resources, registration, monkeypatch, repair=True)

    assert len(repaired["repaired"]) == 1
    assert published(capsys, Metric.WEBHOOKS_REPAIRED) == [[1.0]]
    secret = aws("secretsmanager").get_secret_value(
        SecretId=registration.resource.properties[Prop.WEBHOOK_SECRET_ARN]
    )["SecretString"]
    (recreated,) = [w for w in webhooks.values() if w["resource"] == "OutboundCall"]
    assert (recreated["secret"], recreated["enabled"]) == (secret, True)


def test_health_fails_when_callfire_cannot_say(
    registration: Registration, v2_resources: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.webhook_registration.ports import CallfireUnavailable

    registration.callfire.stop()

    with pytest.raises(CallfireUnavailable):
        health(v2_resources, registration, monkeypatch, repair=False)
