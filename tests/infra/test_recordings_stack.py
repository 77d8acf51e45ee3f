"""The recordings part of the template: the copier function, its event source, exactly its grants,
the queue's timing, the dead-letter alarm, and the loopback switch that the stack never sets."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from functions.names import Env, Handler, Prefix
from infra.config import ReceiverConfig
from infra.security import logical_id
from infra.stack import STACK_NAME, ReceiverStack
from local.template import cdk_json_context, synthesize
from tests.infra.test_stack import as_list, calls_table, only, policy_statements, resources_of

HANDLER = Handler.RECORDINGS
API_KEY_CONTEXT = {"callfireApiKeySecretName": "callfire/api-key"}


def copier(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return only(template, "AWS::Lambda::Function", Handler=HANDLER)


def queues(template: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """The recordings queue's id and resource, and its dead-letter queue's id."""
    ((queue_id, queue),) = [
        (logical_id, queue)
        for logical_id, queue in resources_of(template, "AWS::SQS::Queue").items()
        if "RedrivePolicy" in queue["Properties"]
    ]
    return (
        queue_id,
        queue,
        queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0],
    )


def granted(template: dict[str, Any], role_id: str) -> set[tuple[str, str, str]]:
    return {
        (action, json.dumps(resource, sort_keys=True), json.dumps(statement.get("Condition")))
        for statement in policy_statements(template, role_id)
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
        if statement["Effect"] == "Allow"
    }


def arn(logical_id: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)


def test_copier_runtime_sizing_and_environment(template: dict[str, Any]) -> None:
    _, function = copier(template)
    properties = function["Properties"]
    calls_id, _ = calls_table(template)
    (bucket_id,) = resources_of(template, "AWS::S3::Bucket")
    queue_id, queue, _ = queues(template)

    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Timeout"] == 300
    assert properties["MemorySize"] == 512
    variables = properties["Environment"]["Variables"]
    assert variables[Env.CALLS_TABLE] == {"Ref": calls_id}
    assert variables[Env.BUCKET] == {"Ref": bucket_id}
    assert variables[Env.RECORDINGS_QUEUE_URL] == {"Ref": queue_id}
    assert variables[Env.RECORDING_HOSTS] == "callfire.com"
    assert variables[Env.CALLFIRE_BASE_URL] == "https://www.callfire.com"
    assert variables[Env.CALLFIRE_V2_BASE_URL] == "https://api.callfire.com"
    assert Env.CALLFIRE_API_CREDENTIALS_SECRET_ARN not in variables
    assert variables[Env.RECORDING_MAX_RECEIVES] == str(
        queue["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    )
    assert int(variables[Env.RECORDING_MAX_BYTES]) >= 50 * 1024 * 1024
    assert 0 < float(variables[Env.RECORDING_CONNECT_TIMEOUT]) <= 10
    assert 0 < float(variables[Env.RECORDING_READ_TIMEOUT]) < properties["Timeout"]
    assert Env.CALLFIRE_API_KEY_SECRET_ARN not in variables


def test_queue_visibility_is_at_least_six_times_the_function_timeout(
    template: dict[str, Any],
) -> None:
    _, function = copier(template)
    _, queue, _ = queues(template)

    assert queue["Properties"]["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]


def test_the_queue_feeds_the_copier_with_partial_batch_responses(
    template: dict[str, Any],
) -> None:
    function_id, _ = copier(template)
    queue_id, _, _ = queues(template)
    (mapping,) = [
        mapping
        for mapping in resources_of(template, "AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    properties = mapping["Properties"]

    assert properties["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert properties["FunctionName"] == {"Ref": function_id}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= properties["BatchSize"] <= 10
    assert properties["ScalingConfig"]["MaximumConcurrency"] >= 2
    assert "MaximumBatchingWindowInSeconds" not in properties


def test_copier_role_can_do_exactly_what_the_function_needs(template: dict[str, Any]) -> None:
    _, function = copier(template)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert "Policies" not in role
    calls_id, _ = calls_table(template)
    (bucket_id,) = resources_of(template, "AWS::S3::Bucket")
    queue_id, _, _ = queues(template)
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    recordings = json.dumps(
        {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{Prefix.RECORDINGS}*"]]},
        sort_keys=True,
    )
    none = json.dumps(None)

    assert granted(template, role_id) == {
        ("logs:CreateLogStream", arn(log_group_id), none),
        ("logs:PutLogEvents", arn(log_group_id), none),
        ("dynamodb:GetItem", arn(calls_id), none),
        ("dynamodb:UpdateItem", arn(calls_id), none),
        ("s3:GetObject", recordings, none),
        ("s3:PutObject", recordings, none),
        ("s3:AbortMultipartUpload", recordings, none),
        ("sqs:ReceiveMessage", arn(queue_id), none),
        ("sqs:ChangeMessageVisibility", arn(queue_id), none),
        ("sqs:DeleteMessage", arn(queue_id), none),
        ("sqs:GetQueueAttributes", arn(queue_id), none),
        ("sqs:GetQueueUrl", arn(queue_id), none),
    }


def test_with_an_api_key_secret_the_copier_reads_that_secret_and_no_other() -> None:
    template = synthesize(API_KEY_CONTEXT)
    _, function = copier(template)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    secret_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":secretsmanager:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":secret:callfire/api-key",
            ],
        ]
    }

    assert (
        function["Properties"]["Environment"]["Variables"][Env.CALLFIRE_API_KEY_SECRET_ARN]
        == secret_arn
    )
    secret_grants = {g for g in granted(template, role_id) if g[0].startswith("secretsmanager:")}
    with_suffix = json.loads(json.dumps(secret_arn))
    with_suffix["Fn::Join"][1][-1] += "-??????"
    assert secret_grants == {
        ("secretsmanager:GetSecretValue", json.dumps(with_suffix, sort_keys=True), "null")
    }
    text = json.dumps(template)
    assert '"SecretString"' not in text
    assert "resolve:secretsmanager" not in text


def test_the_dead_letter_queue_has_one_alarm_on_visible_messages_and_it_notifies(
    template: dict[str, Any],
) -> None:
    _, _, dead_letter_id = queues(template)
    (topic_id,) = resources_of(template, "AWS::SNS::Topic")
    (properties,) = [
        alarm["Properties"]
        for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letter_id, "QueueName"]}}]
    ]

    assert properties["Namespace"] == "AWS/SQS"
    assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert properties["Threshold"] == 1
    assert properties["EvaluationPeriods"] == 1
    assert properties["TreatMissingData"] == "notBreaching"
    assert properties["AlarmActions"] == [{"Ref": topic_id}]


def test_the_copier_has_error_and_throttle_alarms(template: dict[str, Any]) -> None:
    function_id, _ = copier(template)

    watched = {
        alarm["Properties"].get("MetricName")
        for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if {"Name": "FunctionName", "Value": {"Ref": function_id}}
        in alarm["Properties"].get("Dimensions", [])
    }
    assert watched == {"Errors", "Throttles"}


def test_the_alarm_the_construct_exposes_is_the_dead_letter_alarm_that_notifies(
    template: dict[str, Any],
) -> None:
    """Monitoring takes the recordings' own alarm instead of making a second one: the construct
    must expose the alarm that watches the dead-letter queue, and that one must notify."""
    app = cdk.App(context={**cdk_json_context(), "aws:cdk:bundling-stacks": []})
    stack = ReceiverStack(app, STACK_NAME, config=ReceiverConfig.from_context(app.node))
    _, _, dead_letter_id = queues(template)
    (topic_id,) = resources_of(template, "AWS::SNS::Topic")

    alarm = template["Resources"][logical_id(stack.recordings.dead_letter_alarm)]

    assert alarm["Type"] == "AWS::CloudWatch::Alarm"
    assert alarm["Properties"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letter_id, "QueueName"]}}
    ]
    assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


@pytest.mark.parametrize(
    "context",
    [
        {},
        API_KEY_CONTEXT,
        {"tracing": True},
        {"callfireBaseUrl": "http://127.0.0.1:8080", "recordingHosts": "127.0.0.1"},
    ],
    ids=["defaults", "api-key", "tracing", "local-callfire"],
)
def test_the_stack_never_sets_the_local_only_switches(context: dict[str, Any]) -> None:
    """The loopback origins and the stand-ins for CallFire's hosts are the local system's own:
    no configuration of the stack sets them on any function."""
    template = synthesize(context, security_checks=False)

    for switch in (Env.RECORDING_LOOPBACK_ORIGINS, Env.RECORDING_STAND_INS):
        for function in resources_of(template, "AWS::Lambda::Function").values():
            variables = function["Properties"].get("Environment", {}).get("Variables", {})
            assert switch not in variables
        assert switch not in json.dumps(template)
