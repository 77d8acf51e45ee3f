"""Retention and the unstored watch in the template: DynamoDB TTL only with a report retention,
S3 lifecycle rules per prefix (non-current versions and delete markers included, `unstored/`
never by age), the hourly watch with exactly its grants, and the alarm on what it publishes."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from functions.names import (
    METRIC_DIMENSION_SETS,
    METRICS_NAMESPACE,
    UNSTORED_ALARM_DAYS,
    Env,
    Handler,
    Item,
    Metric,
    Output,
    Prefix,
)
from infra.config import ConfigError, ReceiverConfig
from local.template import cdk_json_context
from tests.helpers import STEWARDED_CONTEXT
from tests.infra.test_recordings_stack import arn, granted
from tests.infra.test_stack import only, postback_function, resources_of


def lifecycle_rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (bucket,) = resources_of(template, "AWS::S3::Bucket").values()
    return {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}


def config(**context: Any) -> ReceiverConfig:
    app = cdk.App(context={**cdk_json_context(), **context})
    return ReceiverConfig.from_context(app.node)


def test_by_default_nothing_expires_by_age(template: dict[str, Any]) -> None:
    for table in resources_of(template, "AWS::DynamoDB::Table").values():
        assert "TimeToLiveSpecification" not in table["Properties"]
    assert lifecycle_rules(template) == {
        "ExpireOldVersions": {
            "Id": "ExpireOldVersions",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
            "ExpiredObjectDeleteMarker": True,
        }
    }
    assert template["Outputs"][Output.REPORT_RETENTION_DAYS]["Value"] == "0"
    _, function = postback_function(template)
    assert function["Properties"]["Environment"]["Variables"][Env.REPORT_RETENTION_DAYS] == "0"


def test_a_report_retention_turns_on_ttl_on_expires_at_for_both_tables(
    stewarded_template: dict[str, Any],
) -> None:
    tables = resources_of(stewarded_template, "AWS::DynamoDB::Table").values()

    assert [table["Properties"]["TimeToLiveSpecification"] for table in tables] == [
        {"AttributeName": Item.EXPIRES_AT, "Enabled": True}
    ] * 2
    assert stewarded_template["Outputs"][Output.REPORT_RETENTION_DAYS]["Value"] == "30"
    _, function = postback_function(stewarded_template)
    assert function["Properties"]["Environment"]["Variables"][Env.REPORT_RETENTION_DAYS] == "30"


def test_kept_bodies_recordings_and_refused_bodies_expire_by_age_with_their_versions(
    stewarded_template: dict[str, Any],
) -> None:
    """A current version's expiry only adds a delete marker in a versioned bucket; the version it
    hides is removed a day later, and the marker once nothing is left behind it (S3 User Guide,
    "Lifecycle configuration elements": Expiration, NoncurrentVersionExpiration,
    ExpiredObjectDeleteMarker)."""
    rules = lifecycle_rules(stewarded_template)
    by_age = {rule["Prefix"]: rule for rule in rules.values() if "ExpirationInDays" in rule}

    assert {prefix: rule["ExpirationInDays"] for prefix, rule in by_age.items()} == {
        Prefix.RAW: STEWARDED_CONTEXT["reportRetentionDays"],
        Prefix.EVENTS: STEWARDED_CONTEXT["reportRetentionDays"],
        Prefix.RECORDINGS: STEWARDED_CONTEXT["recordingRetentionDays"],
        Prefix.REJECTED: STEWARDED_CONTEXT["rejectedRetentionDays"],
        f"{Prefix.ARCHIVE_INDEX}{Prefix.REJECTED}": STEWARDED_CONTEXT["rejectedRetentionDays"],
    }
    for rule in by_age.values():
        assert rule["Status"] == "Enabled"
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert rules["ExpireOldVersions"]["ExpiredObjectDeleteMarker"] is True
    assert "Prefix" not in rules["ExpireOldVersions"]


def test_unstored_bodies_and_their_index_never_expire_by_age(
    stewarded_template: dict[str, Any],
) -> None:
    for rule in lifecycle_rules(stewarded_template).values():
        if "ExpirationInDays" in rule or "ExpirationDate" in rule:
            assert Prefix.UNSTORED not in rule["Prefix"]
            assert rule["Prefix"] != Prefix.ARCHIVE_INDEX


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("reportRetentionDays", None, 0),
        ("reportRetentionDays", "", 0),
        ("reportRetentionDays", "365", 365),
        ("recordingRetentionDays", 30, 30),
        ("rejectedRetentionDays", "0", 0),
    ],
)
def test_retention_days_read_from_context(name: str, value: Any, expected: int) -> None:
    read = config(**{name: value})

    assert {
        "reportRetentionDays": read.report_retention_days,
        "recordingRetentionDays": read.recording_retention_days,
        "rejectedRetentionDays": read.rejected_retention_days,
    }[name] == expected


@pytest.mark.parametrize("value", ["-1", "1.5", "thirty", "36501"])
def test_retention_days_outside_the_range_fail_the_synth(value: str) -> None:
    with pytest.raises(ConfigError, match="reportRetentionDays"):
        config(reportRetentionDays=value)


@pytest.mark.parametrize(
    "value",
    ["alias/receiver", "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:1:alias/x"],
)
def test_kms_key_arn_must_be_a_key_arn(value: str) -> None:
    with pytest.raises(ConfigError, match="kmsKeyArn"):
        config(kmsKeyArn=value)


def watch(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return only(template, "AWS::Lambda::Function", Handler=Handler.UNSTORED_WATCH)


def test_the_unstored_watch_runs_every_hour(template: dict[str, Any]) -> None:
    function_id, function = watch(template)
    (bucket_id,) = resources_of(template, "AWS::S3::Bucket")
    ((_, rule),) = [
        (logical_id, rule)
        for logical_id, rule in resources_of(template, "AWS::Events::Rule").items()
        if rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]

    assert rule["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    assert rule["Properties"]["State"] == "ENABLED"
    assert function["Properties"]["Environment"]["Variables"][Env.BUCKET] == {"Ref": bucket_id}
    permissions = [
        permission["Properties"]
        for permission in resources_of(template, "AWS::Lambda::Permission").values()
        if permission["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    assert [(p["Principal"], p["Action"]) for p in permissions] == [
        ("events.amazonaws.com", "lambda:InvokeFunction")
    ]


@pytest.mark.parametrize("configuration", ["defaults", "customer-key-and-retention"])
def test_the_watch_may_list_unstored_and_read_tags_there_and_nothing_else(
    configuration: str, template: dict[str, Any], stewarded_template: dict[str, Any]
) -> None:
    """Listing and tags are not encrypted: no KMS grant even with a customer key."""
    synthesized = {"defaults": template}.get(configuration, stewarded_template)
    _, function = watch(synthesized)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    (bucket_id,) = resources_of(synthesized, "AWS::S3::Bucket")
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    unstored = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{Prefix.UNSTORED}*"]]}
    prefix_condition = json.dumps({"StringLike": {"s3:prefix": [f"{Prefix.UNSTORED}*"]}})
    none = json.dumps(None)

    assert granted(synthesized, role_id) == {
        ("logs:CreateLogStream", arn(log_group_id), none),
        ("logs:PutLogEvents", arn(log_group_id), none),
        ("s3:ListBucket", arn(bucket_id), prefix_condition),
        ("s3:GetObjectTagging", json.dumps(unstored, sort_keys=True), none),
    }


def test_an_alarm_says_when_a_body_waited_in_unstored_more_than_seven_days(
    template: dict[str, Any],
) -> None:
    (topic_id,) = resources_of(template, "AWS::SNS::Topic")
    (alarm,) = [
        alarm["Properties"]
        for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == Metric.OLDEST_UNSTORED_BODY_AGE
    ]

    assert alarm["Namespace"] == METRICS_NAMESPACE
    assert [[d["Name"] for d in alarm["Dimensions"]]] == [
        list(dimensions) for dimensions in METRIC_DIMENSION_SETS[Metric.OLDEST_UNSTORED_BODY_AGE]
    ]
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Period"] == 3600
    assert alarm["Threshold"] == UNSTORED_ALARM_DAYS * 86400
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert "unstored/" in alarm["AlarmDescription"]


def test_the_watch_has_an_error_alarm(template: dict[str, Any]) -> None:
    """Its throttles would be the account's, which the postback function's alarm watches."""
    function_id, _ = watch(template)

    watched = {
        alarm["Properties"].get("MetricName")
        for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if {"Name": "FunctionName", "Value": {"Ref": function_id}}
        in alarm["Properties"].get("Dimensions", [])
    }
    assert watched == {"Errors"}


def test_the_hash_salt_is_a_generated_secret_kept_with_the_data(
    template: dict[str, Any],
) -> None:
    salt_id = template["Outputs"][Output.HASH_SALT_SECRET_ARN]["Value"]["Ref"]
    salt = template["Resources"][salt_id]

    assert salt["Type"] == "AWS::SecretsManager::Secret"
    assert salt["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    assert salt["DeletionPolicy"] == "Retain"
