"""`POST /webhooks` in the template: its own function behind the postbacks' HTTP API, a timeout
API Gateway can wait for, a generated secret no value of which reaches the template, and a role
that may do exactly what the function needs."""

from __future__ import annotations

import json
from typing import Any

from functions.names import Env, Handler, Output, Prefix, Route
from tests.infra.test_stack import (
    as_list,
    calls_table,
    only,
    policy_statements,
    resources_of,
)

API_GATEWAY_INTEGRATION_SECONDS = 30
"""HTTP APIs wait at most 30 seconds for an integration (API Gateway quotas, "Maximum
integration timeout": 30 seconds, not increasable)."""


def webhook_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return only(template, "AWS::Lambda::Function", Handler=Handler.WEBHOOKS)


def test_post_webhooks_invokes_its_own_function_on_the_same_api(template: dict[str, Any]) -> None:
    function_id, _ = webhook_function(template)
    _, webhooks = only(template, "AWS::ApiGatewayV2::Route", RouteKey=f"POST {Route.WEBHOOKS}")
    _, postbacks = only(template, "AWS::ApiGatewayV2::Route", RouteKey=f"POST {Route.POSTBACKS}")

    assert webhooks["Properties"]["ApiId"] == postbacks["Properties"]["ApiId"]
    integration_id = webhooks["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
    integration = template["Resources"][integration_id]["Properties"]
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_the_function_answers_before_api_gateway_gives_up(template: dict[str, Any]) -> None:
    _, function = webhook_function(template)
    properties = function["Properties"]

    assert properties["Timeout"] < API_GATEWAY_INTEGRATION_SECONDS
    assert (properties["Runtime"], properties["Architectures"]) == ("python3.13", ["arm64"])
    variables = properties["Environment"]["Variables"]
    assert set(variables) >= {
        Env.CALLS_TABLE,
        Env.CAMPAIGNS_TABLE,
        Env.BUCKET,
        Env.RECORDINGS_QUEUE_URL,
        Env.WEBHOOK_SECRET_ARN,
        Env.MAX_BODY_BYTES,
        Env.ALARM_TOPIC_ARN,
    }
    assert Env.TOKEN_SECRET_ARN not in variables


def test_the_webhook_secret_is_generated_and_only_its_arn_is_passed(
    template: dict[str, Any],
) -> None:
    _, function = webhook_function(template)
    secret_id = function["Properties"]["Environment"]["Variables"][Env.WEBHOOK_SECRET_ARN]["Ref"]
    secret = template["Resources"][secret_id]["Properties"]

    assert "SecretString" not in secret
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32
    assert template["Outputs"][Output.WEBHOOK_SECRET_ARN]["Value"] == {"Ref": secret_id}


def test_the_webhook_url_is_an_output(template: dict[str, Any]) -> None:
    url = json.dumps(template["Outputs"][Output.WEBHOOK_URL]["Value"])

    assert url.endswith('"/webhooks"]]}')


def test_webhook_role_can_do_exactly_what_the_function_needs(template: dict[str, Any]) -> None:
    _, function = webhook_function(template)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    variables = function["Properties"]["Environment"]["Variables"]
    calls_id, _ = calls_table(template)
    (campaigns_id,) = [i for i in resources_of(template, "AWS::DynamoDB::Table") if i != calls_id]
    (bucket_id,) = resources_of(template, "AWS::S3::Bucket")
    (topic_id,) = resources_of(template, "AWS::SNS::Topic")
    queue_id = variables[Env.RECORDINGS_QUEUE_URL]["Ref"]
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]

    granted = {
        (action, json.dumps(resource, sort_keys=True))
        for statement in policy_statements(template, role_id)
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
        if statement["Effect"] == "Allow"
    }

    def prefix(name: str) -> str:
        return json.dumps(
            {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{name}*"]]}, sort_keys=True
        )

    def arn(logical_id: str) -> str:
        return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)

    assert variables[Env.ALARM_TOPIC_ARN] == {"Ref": topic_id}
    assert granted == {
        ("logs:CreateLogStream", arn(log_group_id)),
        ("logs:PutLogEvents", arn(log_group_id)),
        ("dynamodb:PutItem", arn(calls_id)),
        ("dynamodb:PutItem", arn(campaigns_id)),
        ("dynamodb:UpdateItem", arn(calls_id)),
        ("dynamodb:UpdateItem", arn(campaigns_id)),
        ("dynamodb:GetItem", arn(calls_id)),
        ("dynamodb:GetItem", arn(campaigns_id)),
        ("s3:PutObject", prefix(Prefix.REJECTED)),
        ("s3:PutObject", prefix(Prefix.UNSTORED)),
        ("s3:PutObject", prefix(Prefix.EVENTS)),
        ("s3:PutObject", prefix(Prefix.RAW)),
        ("s3:PutObject", prefix(Prefix.ARCHIVE_INDEX)),
        ("sqs:SendMessage", arn(queue_id)),
        (
            "secretsmanager:GetSecretValue",
            json.dumps({"Ref": variables[Env.WEBHOOK_SECRET_ARN]["Ref"]}),
        ),
        (
            "secretsmanager:GetSecretValue",
            json.dumps({"Ref": variables[Env.HASH_SALT_SECRET_ARN]["Ref"]}),
        ),
        ("sns:Publish", json.dumps({"Ref": topic_id})),
    }


def test_the_webhook_function_has_error_and_throttle_alarms(template: dict[str, Any]) -> None:
    function_id, _ = webhook_function(template)
    watched = [
        alarm["Properties"]["MetricName"]
        for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Dimensions")
        == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    ]

    assert sorted(watched) == ["Errors", "Throttles"]
