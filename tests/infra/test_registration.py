"""The subscription custom resource in the template: only with an API key secret, no secret in its
properties, a role that reads exactly the two secrets, and the by-hand command otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from functions.names import Env, Handler, Output, Route, StatusObject, SubscriptionResource
from local.callfire import StandInCallFire
from local.resources import LocalResources
from local.template import synthesize
from tests.infra.test_stack import as_list, policy_statements, resources_of, token_secret_id

API_KEY_SECRET_NAME = "callfire/api-key"
HANDLER = Handler.REGISTRATION


@pytest.fixture(scope="module")
def configured() -> dict[str, Any]:
    return synthesize(
        {"callfireApiKeySecretName": API_KEY_SECRET_NAME, "subscribeCampaignIds": "12,34"}
    )


def custom_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of(template, SubscriptionResource.RESOURCE_TYPE)


def function_with_handler(template: dict[str, Any], handler: str) -> list[tuple[str, Any]]:
    return [
        (logical_id, resource)
        for logical_id, resource in resources_of(template, "AWS::Lambda::Function").items()
        if resource["Properties"].get("Handler") == handler
    ]


def arn(logical_id: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)


def grants(template: dict[str, Any], role_id: str) -> set[tuple[str, str]]:
    return {
        (action, json.dumps(resource, sort_keys=True))
        for statement in policy_statements(template, role_id)
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
        if statement["Effect"] == "Allow"
    }


def api_key_arn(suffix: str = "") -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":secretsmanager:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":secret:{API_KEY_SECRET_NAME}{suffix}",
            ],
        ]
    }


def test_without_an_api_key_secret_nothing_registers(template: dict[str, Any]) -> None:
    assert custom_resources(template) == {}
    assert function_with_handler(template, HANDLER) == []
    assert function_with_handler(template, "framework.onEvent") == []
    assert Output.CALLFIRE_SUBSCRIPTION not in template["Outputs"]


def test_with_an_api_key_secret_one_custom_resource_subscribes(configured: dict[str, Any]) -> None:
    ((resource_id, resource),) = custom_resources(configured).items()
    ((handler_id, _),) = function_with_handler(configured, HANDLER)
    ((framework_id, framework),) = function_with_handler(configured, "framework.onEvent")

    assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [framework_id, "Arn"]}
    variables = framework["Properties"]["Environment"]["Variables"]
    assert variables["USER_ON_EVENT_FUNCTION_ARN"] == {"Fn::GetAtt": [handler_id, "Arn"]}
    assert Output.SUBSCRIBE_COMMAND not in configured["Outputs"]
    summary = configured["Outputs"][Output.CALLFIRE_SUBSCRIPTION]["Value"]
    assert "campaigns 12, 34" in summary
    assert API_KEY_SECRET_NAME in summary
    assert resource_id.startswith("Registration")


def test_properties_carry_the_inputs_and_no_secret(configured: dict[str, Any]) -> None:
    (resource,) = custom_resources(configured).values()
    properties = resource["Properties"]

    assert set(properties) == {
        "ServiceToken",
        "ServiceTimeout",
        SubscriptionResource.POSTBACK_URL,
        SubscriptionResource.CALLFIRE_BASE_URL,
        SubscriptionResource.CAMPAIGN_IDS,
        SubscriptionResource.API_KEY_SECRET_ARN,
        SubscriptionResource.TOKEN_SECRET_ARN,
    }
    assert properties[SubscriptionResource.CAMPAIGN_IDS] == ["12", "34"]
    assert properties[SubscriptionResource.CALLFIRE_BASE_URL] == "https://www.callfire.com"
    assert properties[SubscriptionResource.TOKEN_SECRET_ARN] == {"Ref": token_secret_id(configured)}
    assert properties[SubscriptionResource.API_KEY_SECRET_ARN] == api_key_arn()
    postback_url = json.dumps(properties[SubscriptionResource.POSTBACK_URL])
    assert postback_url.endswith('"/postbacks"]]}')
    assert "token" not in postback_url.lower()
    text = json.dumps(configured)
    assert "resolve:secretsmanager" not in text
    assert '"SecretString"' not in text


def test_properties_resolve_to_plain_values(configured: dict[str, Any]) -> None:
    """What the function receives: ARNs and URLs, nothing to dereference."""
    local = LocalResources(configured, "eu-west-1", "s")
    local.refs[token_secret_id(configured)] = "arn:token"
    for logical_id in resources_of(configured, "AWS::ApiGatewayV2::Api"):
        local.refs[logical_id] = "api1"
    (resource,) = custom_resources(configured).values()

    properties = local.resolve(
        {name: value for name, value in resource["Properties"].items() if name != "ServiceToken"}
    )

    assert properties[SubscriptionResource.POSTBACK_URL] == (
        "https://api1.execute-api.eu-west-1.amazonaws.com/postbacks"
    )
    assert properties[SubscriptionResource.API_KEY_SECRET_ARN] == (
        f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{API_KEY_SECRET_NAME}"
    )


def test_it_waits_for_the_route_and_the_postback_function(configured: dict[str, Any]) -> None:
    (resource,) = custom_resources(configured).values()
    (route_id,) = [
        logical_id
        for logical_id, route in resources_of(configured, "AWS::ApiGatewayV2::Route").items()
        if route["Properties"]["RouteKey"] == f"POST {Route.POSTBACKS}"
    ]
    (postback_id, _) = function_with_handler(configured, Handler.POSTBACK)[0]

    assert {route_id, postback_id, token_secret_id(configured)} <= set(resource["DependsOn"])


def test_registration_role_reads_those_two_secrets_and_writes_its_status_only(
    configured: dict[str, Any],
) -> None:
    ((_, function),) = function_with_handler(configured, HANDLER)
    properties = function["Properties"]
    role_id = properties["Role"]["Fn::GetAtt"][0]
    role = configured["Resources"][role_id]["Properties"]
    log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
    (bucket_id,) = resources_of(configured, "AWS::S3::Bucket")
    status_object = {
        "Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{StatusObject.REGISTRATION}"]]
    }

    assert "ManagedPolicyArns" not in role
    assert "Policies" not in role
    assert grants(configured, role_id) == {
        ("logs:CreateLogStream", arn(log_group_id)),
        ("logs:PutLogEvents", arn(log_group_id)),
        (
            "secretsmanager:GetSecretValue",
            json.dumps({"Ref": token_secret_id(configured)}, sort_keys=True),
        ),
        ("secretsmanager:GetSecretValue", json.dumps(api_key_arn("-??????"), sort_keys=True)),
        ("s3:PutObject", json.dumps(status_object, sort_keys=True)),
    }
    assert properties["Environment"]["Variables"][Env.BUCKET] == {"Ref": bucket_id}


def test_framework_role_invokes_the_registration_function_only(
    configured: dict[str, Any],
) -> None:
    ((handler_id, _),) = function_with_handler(configured, HANDLER)
    ((_, framework),) = function_with_handler(configured, "framework.onEvent")
    role_id = framework["Properties"]["Role"]["Fn::GetAtt"][0]
    log_group_id = framework["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    versions = json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [handler_id, "Arn"]}, ":*"]]})

    assert "ManagedPolicyArns" not in configured["Resources"][role_id]["Properties"]
    assert grants(configured, role_id) == {
        ("logs:CreateLogStream", arn(log_group_id)),
        ("logs:PutLogEvents", arn(log_group_id)),
        ("lambda:InvokeFunction", arn(handler_id)),
        ("lambda:InvokeFunction", versions),
        ("lambda:GetFunction", arn(handler_id)),
    }


def test_registration_function_has_no_secret_in_its_environment(
    configured: dict[str, Any],
) -> None:
    ((_, function),) = function_with_handler(configured, HANDLER)
    properties = function["Properties"]

    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["arm64"]
    assert 60 <= properties["Timeout"] <= 600
    assert set(properties["Environment"]["Variables"]) == {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
        Env.BUCKET,
    }


def test_without_an_api_key_the_output_says_how_to_subscribe_by_hand(
    template: dict[str, Any],
) -> None:
    output = template["Outputs"][Output.SUBSCRIBE_COMMAND]
    text = json.dumps(output["Value"])

    assert "CALLFIRE_API_KEY" in output["Description"]
    assert "aws secretsmanager get-secret-value" in text
    assert json.dumps({"Ref": token_secret_id(template)}) in text
    assert "for ENDPOINT in callfinish campaignfinish;" in text
    assert "https://www.callfire.com/cloud/1/reports/callback/$ENDPOINT" in text
    assert "${CALLFIRE_API_KEY:?" in text


def test_the_by_hand_output_lists_each_campaign() -> None:
    outputs = synthesize({"subscribeCampaignIds": "5,6"})["Outputs"]

    assert "in callfinish/5 campaignfinish/5 callfinish/6 campaignfinish/6;" in json.dumps(
        outputs[Output.SUBSCRIBE_COMMAND]["Value"]
    )


def test_the_by_hand_command_subscribes_when_run(tmp_path: Path) -> None:
    """The output's exact line, run by bash with the real curl against the stand-in CallFire; a
    stand-in `aws` prints the token as `get-secret-value --query SecretString` would."""
    bash = shutil.which("bash")
    if bash is None or shutil.which("curl") is None:
        pytest.skip("needs bash and curl, as the by-hand command does")
    with StandInCallFire() as callfire:
        template = synthesize({"callfireBaseUrl": callfire.url})
        local = LocalResources(template, "us-east-1", "s")
        local.refs[token_secret_id(template)] = "arn:aws:secretsmanager:us-east-1:1:secret:t"
        for logical_id in resources_of(template, "AWS::ApiGatewayV2::Api"):
            local.refs[logical_id] = "api1"
        command = local.resolve(template["Outputs"][Output.SUBSCRIBE_COMMAND]["Value"])
        fake_aws = tmp_path / "aws"
        fake_aws.write_text(
            "#!/bin/sh\n"
            'case "$*" in "secretsmanager get-secret-value --region us-east-1 --secret-id '
            'arn:aws:secretsmanager:us-east-1:1:secret:t --query SecretString --output text") '
            "echo Tok3n;; *) exit 1;; esac\n"
        )
        fake_aws.chmod(0o755)
        environment = {"PATH": f"{tmp_path}:{os.environ['PATH']}", "CALLFIRE_API_KEY": "k&y"}

        result = subprocess.run(
            [bash, "-c", command], env=environment, capture_output=True, text=True, check=False
        )
        refused = subprocess.run(
            [bash, "-c", command],
            env={"PATH": environment["PATH"]},
            capture_output=True,
            text=True,
            check=False,
        )

    assert result.returncode == 0, result.stderr
    post_url = "https://api1.execute-api.us-east-1.amazonaws.com/postbacks?token=Tok3n"
    assert [(s.kind, s.campaign_id, s.api_key, s.post_url) for s in callfire.subscriptions] == [
        ("callfinish", None, "k&y", post_url),
        ("campaignfinish", None, "k&y", post_url),
    ]
    assert refused.returncode != 0
    assert "set CALLFIRE_API_KEY to your CallFire API key" in refused.stderr
