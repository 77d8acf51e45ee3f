"""The synthesized template: the contract's keys, indexes, route, outputs, and least privilege."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from functions.names import CallsTable, CampaignsTable, Env, Handler, Output, Prefix
from local.template import synthesize


@pytest.fixture(scope="module")
def stack(template: dict[str, Any]) -> Template:
    return Template.from_json(template)


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def only(
    template: dict[str, Any], resource_type: str, **properties: Any
) -> tuple[str, dict[str, Any]]:
    matches = [
        (logical_id, resource)
        for logical_id, resource in resources_of(template, resource_type).items()
        if all(resource["Properties"].get(name) == value for name, value in properties.items())
    ]
    assert len(matches) == 1, (
        f"expected one {resource_type} with {properties}, found {len(matches)}"
    )
    return matches[0]


def postback_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return only(template, "AWS::Lambda::Function", Handler=Handler.POSTBACK)


def token_secret_id(template: dict[str, Any]) -> str:
    """The postback token's secret (the stack holds another: the hash salt)."""
    _, function = postback_function(template)
    secret: str = function["Properties"]["Environment"]["Variables"][Env.TOKEN_SECRET_ARN]["Ref"]
    return secret


def hash_salt_id(template: dict[str, Any]) -> str:
    """The secret that keys the archive index's phone-number hashes (a stack output)."""
    salt: str = template["Outputs"][Output.HASH_SALT_SECRET_ARN]["Value"]["Ref"]
    return salt


def calls_table(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    for logical_id, resource in resources_of(template, "AWS::DynamoDB::Table").items():
        if resource["Properties"]["KeySchema"][0]["AttributeName"] == CallsTable.PARTITION_KEY:
            return logical_id, resource
    raise AssertionError("no calls table")


def test_calls_table_keys_and_indexes(stack: Template) -> None:
    stack.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "callId", "KeyType": "HASH"},
                {"AttributeName": "eventType", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "byCampaign",
                    "KeySchema": [
                        {"AttributeName": "campaignId", "KeyType": "HASH"},
                        {"AttributeName": "callStart", "KeyType": "RANGE"},
                    ],
                    "Projection": {
                        "ProjectionType": "INCLUDE",
                        "NonKeyAttributes": Match.array_with(["phoneNumber", "disposition"]),
                    },
                },
                {
                    "IndexName": "byPhoneNumber",
                    "KeySchema": [
                        {"AttributeName": "phoneNumber", "KeyType": "HASH"},
                        {"AttributeName": "callStart", "KeyType": "RANGE"},
                    ],
                    "Projection": {
                        "ProjectionType": "INCLUDE",
                        "NonKeyAttributes": Match.array_with(["campaignId", "disposition"]),
                    },
                },
            ],
            "AttributeDefinitions": Match.array_with(
                [
                    {"AttributeName": name, "AttributeType": "S"}
                    for name in ("callId", "eventType", "campaignId", "callStart", "phoneNumber")
                ]
            ),
        },
    )


def test_indexes_carry_the_list_columns_but_not_the_large_or_changing_attributes(
    template: dict[str, Any],
) -> None:
    _, table = calls_table(template)
    for index in table["Properties"]["GlobalSecondaryIndexes"]:
        projected = set(index["Projection"]["NonKeyAttributes"])
        assert projected <= set(CallsTable.INDEX_ATTRIBUTES)
        assert projected.isdisjoint(
            {"raw", "extra", "storedData", "notes", "recordings", "deliveries"}
        )
        assert {"disposition", "durationSeconds", "receivedAt"} <= projected


def test_tables_refuse_requests_without_tls(template: dict[str, Any]) -> None:
    for table in resources_of(template, "AWS::DynamoDB::Table").values():
        (statement,) = table["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == {"AWS": "*"}
        assert statement["Action"] == "dynamodb:*"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_campaigns_table_key(stack: Template) -> None:
    stack.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": CampaignsTable.PARTITION_KEY, "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    stack.resource_count_is("AWS::DynamoDB::Table", 2)


def test_data_is_retained_by_default_and_deleted_on_request(template: dict[str, Any]) -> None:
    for resource_type in ("AWS::DynamoDB::Table", "AWS::S3::Bucket"):
        for resource in resources_of(template, resource_type).values():
            assert resource["DeletionPolicy"] == "Retain"
    disposable = synthesize({"retainData": False})
    for resource_type in ("AWS::DynamoDB::Table", "AWS::S3::Bucket"):
        for resource in resources_of(disposable, resource_type).values():
            assert resource["DeletionPolicy"] == "Delete"


def test_bucket_is_encrypted_private_versioned_and_tls_only(stack: Template) -> None:
    stack.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    )
    stack.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_recordings_queue_dead_letters_after_bounded_attempts(template: dict[str, Any]) -> None:
    queues = resources_of(template, "AWS::SQS::Queue")
    (queue_id,) = [
        logical_id for logical_id, q in queues.items() if "RedrivePolicy" in q["Properties"]
    ]
    redrive = queues[queue_id]["Properties"]["RedrivePolicy"]
    dead_letter_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert dead_letter_id in queues
    assert redrive["maxReceiveCount"] == 5
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


def test_post_postbacks_route_invokes_the_postback_function(template: dict[str, Any]) -> None:
    function_id, _ = postback_function(template)
    _, route = only(template, "AWS::ApiGatewayV2::Route", RouteKey="POST /postbacks")
    integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
    integration = template["Resources"][integration_id]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_stage_is_throttled_and_access_logs_hold_no_query_string(template: dict[str, Any]) -> None:
    (stage,) = resources_of(template, "AWS::ApiGatewayV2::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == "$default"
    assert properties["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert properties["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    log_format = properties["AccessLogSettings"]["Format"]
    assert "$context.requestId" in log_format
    for leaky in ("$context.path", "querystring", "$context.routeKey" + "?", "$input"):
        assert leaky not in log_format
    json.loads(log_format.replace('"$context.', '"x.'))


def test_postback_function_runtime_and_environment(template: dict[str, Any]) -> None:
    _, function = postback_function(template)
    properties = function["Properties"]
    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Timeout"] <= 29
    variables = properties["Environment"]["Variables"]
    assert set(variables) >= {
        Env.CALLS_TABLE,
        Env.CAMPAIGNS_TABLE,
        Env.BUCKET,
        Env.RECORDINGS_QUEUE_URL,
        Env.TOKEN_SECRET_ARN,
        Env.MAX_BODY_BYTES,
    }
    assert variables[Env.MAX_BODY_BYTES] == str(256 * 1024)
    assert "POWERTOOLS_LOGGER_LOG_EVENT" not in variables


def policy_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_postback_role_can_do_exactly_what_the_function_needs(template: dict[str, Any]) -> None:
    _, function = postback_function(template)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert "Policies" not in role
    calls_id, _ = calls_table(template)
    (campaigns_id,) = [i for i in resources_of(template, "AWS::DynamoDB::Table") if i != calls_id]
    (bucket_id,) = resources_of(template, "AWS::S3::Bucket")
    secret_id = token_secret_id(template)
    salt_id = hash_salt_id(template)
    queue_ids = [
        i
        for i, q in resources_of(template, "AWS::SQS::Queue").items()
        if "RedrivePolicy" in q["Properties"]
    ]
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
        ("s3:PutObject", prefix(Prefix.RAW)),
        ("s3:PutObject", prefix(Prefix.ARCHIVE_INDEX)),
        ("sqs:SendMessage", arn(queue_ids[0])),
        ("secretsmanager:GetSecretValue", json.dumps({"Ref": secret_id})),
        ("secretsmanager:GetSecretValue", json.dumps({"Ref": salt_id})),
    }


def test_no_secret_value_reaches_the_template(template: dict[str, Any]) -> None:
    secrets = resources_of(template, "AWS::SecretsManager::Secret")
    webhook_secret_id = template["Outputs"][Output.WEBHOOK_SECRET_ARN]["Value"]["Ref"]
    assert set(secrets) == {token_secret_id(template), hash_salt_id(template), webhook_secret_id}
    for secret in secrets.values():
        assert "SecretString" not in secret["Properties"]
        assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    text = json.dumps(template)
    assert "resolve:secretsmanager" not in text
    assert '"SecretString"' not in text
    _, function = postback_function(template)
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables[Env.TOKEN_SECRET_ARN] == {"Ref": token_secret_id(template)}
    assert variables[Env.HASH_SALT_SECRET_ARN] == {"Ref": hash_salt_id(template)}


def test_outputs_give_what_a_user_needs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert set(outputs) >= {
        Output.POSTBACK_URL,
        Output.TOKEN_SECRET_ARN,
        Output.CALLS_TABLE,
        Output.CAMPAIGNS_TABLE,
        Output.BUCKET,
        Output.DEAD_LETTER_QUEUE,
        Output.RECORDINGS_QUEUE,
    }
    url = json.dumps(outputs[Output.POSTBACK_URL]["Value"])
    assert url.endswith('"/postbacks"]]}')
    assert "token" not in url.lower()
