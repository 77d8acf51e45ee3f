"""The webhook registration in the template: only when `callfireApi` asks for v2, no secret in
its properties, a role that reads exactly the two secrets, and configuration checked at synth."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.names import Handler, Output, Route, WebhookResource
from infra.config import ConfigError, ReceiverConfig
from tests.conftest import V2_CONTEXT
from tests.infra.test_registration import arn, function_with_handler, grants
from tests.infra.test_stack import resources_of

CREDENTIALS = V2_CONTEXT["callfireApiCredentialsSecretName"]


def webhook_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of(template, WebhookResource.RESOURCE_TYPE)


def test_no_webhook_registration_unless_callfire_api_asks_for_it(
    template: dict[str, Any],
) -> None:
    assert webhook_resources(template) == {}
    assert function_with_handler(template, Handler.WEBHOOK_REGISTRATION) == []
    assert Output.CALLFIRE_WEBHOOKS not in template["Outputs"]


def test_properties_carry_the_inputs_and_no_secret(v2_template: dict[str, Any]) -> None:
    ((_, resource),) = webhook_resources(v2_template).items()
    properties = resource["Properties"]

    assert set(properties) == {
        "ServiceToken",
        WebhookResource.WEBHOOK_URL,
        WebhookResource.CALLFIRE_V2_BASE_URL,
        WebhookResource.CREDENTIALS_SECRET_ARN,
        WebhookResource.WEBHOOK_SECRET_ARN,
        WebhookResource.NAME_PREFIX,
    }
    assert properties[WebhookResource.CALLFIRE_V2_BASE_URL] == "https://api.callfire.com"
    assert properties[WebhookResource.NAME_PREFIX] == "CallfireReceiver"
    assert json.dumps(properties[WebhookResource.WEBHOOK_URL]).endswith(f'"{Route.WEBHOOKS}"]]}}')
    assert json.dumps(properties[WebhookResource.CREDENTIALS_SECRET_ARN]).endswith(
        f':secret:{CREDENTIALS}"]]}}'
    )
    (webhooks_function, _) = function_with_handler(v2_template, Handler.WEBHOOKS)[0]
    secret_ref = v2_template["Resources"][webhooks_function]["Properties"]["Environment"][
        "Variables"
    ]["WEBHOOK_SECRET_ARN"]
    assert properties[WebhookResource.WEBHOOK_SECRET_ARN] == secret_ref
    assert webhooks_function in resource["DependsOn"]
    text = json.dumps(v2_template)
    assert '"SecretString"' not in text
    assert "resolve:secretsmanager" not in text


def test_the_role_reads_those_two_secrets_and_nothing_else(v2_template: dict[str, Any]) -> None:
    ((function_id, function),) = function_with_handler(v2_template, Handler.WEBHOOK_REGISTRATION)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    ((_, resource),) = webhook_resources(v2_template).items()
    webhook_secret = resource["Properties"][WebhookResource.WEBHOOK_SECRET_ARN]
    credentials = json.loads(
        json.dumps(resource["Properties"][WebhookResource.CREDENTIALS_SECRET_ARN])
    )
    credentials["Fn::Join"][1][-1] += "-??????"
    log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]

    assert grants(v2_template, role_id) == {
        ("logs:CreateLogStream", arn(log_group)),
        ("logs:PutLogEvents", arn(log_group)),
        ("secretsmanager:GetSecretValue", json.dumps(webhook_secret, sort_keys=True)),
        ("secretsmanager:GetSecretValue", json.dumps(credentials, sort_keys=True)),
    }
    assert function_id


def test_both_registers_both_generations_and_says_so(v2_template: dict[str, Any]) -> None:
    outputs = v2_template["Outputs"]

    assert Output.CALLFIRE_WEBHOOKS in outputs
    assert Output.CALLFIRE_SUBSCRIPTION in outputs
    assert "CallfireReceiver-<resource>" in json.dumps(outputs[Output.CALLFIRE_WEBHOOKS])


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"callfire_api": "v3"}, "callfireApi must be one of legacy, v2, both"),
        ({"callfire_api": "v2"}, "set callfireApiCredentialsSecretName"),
        ({"callfire_api": "both"}, "set callfireApiCredentialsSecretName"),
        (
            {"callfire_v2_base_url": "http://api.callfire.com"},
            "callfireV2BaseUrl must be an https URL",
        ),
    ],
)
def test_configuration_that_cannot_work_fails_the_synth(
    settings: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        ReceiverConfig(**settings).validate()


@pytest.mark.parametrize("choice", ["legacy", "v2", "both"])
def test_each_choice_with_credentials_is_valid(choice: str) -> None:
    config = ReceiverConfig(callfire_api=choice, callfire_api_credentials_secret_name="c")

    config.validate()
    assert config.registers_webhooks is (choice != "legacy")
    assert config.registers_legacy is (choice != "v2")
