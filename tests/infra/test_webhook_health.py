"""The hourly webhook check in the template: only with v2 webhooks, scheduled every hour without
retries, its metric declared where the metric contract reads it, an alarm that notifies, and a
role that reads the webhook secret only when it may repair."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.names import (
    METRIC_DIMENSION_SETS,
    METRICS_NAMESPACE,
    Dimension,
    Env,
    Handler,
    Metric,
)
from local.template import synthesize
from tests.conftest import V2_CONTEXT
from tests.infra.test_registration import function_with_handler, grants
from tests.infra.test_stack import resources_of


@pytest.fixture(scope="module")
def repairing() -> dict[str, Any]:
    return synthesize({**V2_CONTEXT, "repairWebhooks": "true"})


def health_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((function_id, function),) = function_with_handler(template, Handler.WEBHOOK_HEALTH)
    return function_id, function


def test_no_health_check_without_v2_webhooks(template: dict[str, Any]) -> None:
    assert function_with_handler(template, Handler.WEBHOOK_HEALTH) == []


def test_it_runs_every_hour_without_retries(v2_template: dict[str, Any]) -> None:
    function_id, _ = health_function(v2_template)
    (rule,) = [
        resource
        for resource in resources_of(v2_template, "AWS::Events::Rule").values()
        if resource["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]

    assert rule["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0


def test_its_alarm_reads_a_declared_metric_and_notifies(v2_template: dict[str, Any]) -> None:
    (alarm,) = [
        resource["Properties"]
        for resource in resources_of(v2_template, "AWS::CloudWatch::Alarm").values()
        if resource["Properties"].get("MetricName") == Metric.WEBHOOKS_UNHEALTHY
    ]
    (topic_id,) = resources_of(v2_template, "AWS::SNS::Topic")

    assert alarm["Namespace"] == METRICS_NAMESPACE
    dimensions = tuple(dimension["Name"] for dimension in alarm["Dimensions"])
    assert dimensions in METRIC_DIMENSION_SETS[Metric.WEBHOOKS_UNHEALTHY]
    assert dimensions == (Dimension.SERVICE,)
    assert (alarm["Period"], alarm["Statistic"], alarm["Threshold"]) == (3600, "Maximum", 1)
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert alarm["OKActions"] == [{"Ref": topic_id}]


def test_it_reads_the_credentials_and_checks_the_webhook_url(v2_template: dict[str, Any]) -> None:
    _, function = health_function(v2_template)
    variables = function["Properties"]["Environment"]["Variables"]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]

    assert variables[Env.REPAIR_WEBHOOKS] == "false"
    assert variables[Env.WEBHOOK_NAME_PREFIX] == "CallfireReceiver"
    assert json.dumps(variables[Env.WEBHOOK_URL]).endswith('"/webhooks"]]}')
    assert Env.WEBHOOK_SECRET_ARN not in variables
    secret_grants = {g for g in grants(v2_template, role_id) if g[0].startswith("secrets")}
    (only,) = secret_grants
    assert only[1].endswith(':secret:callfire/api-credentials-??????"]]}')


def test_with_repairs_it_may_read_the_webhook_secret_too(repairing: dict[str, Any]) -> None:
    _, function = health_function(repairing)
    variables = function["Properties"]["Environment"]["Variables"]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]

    assert variables[Env.REPAIR_WEBHOOKS] == "true"
    secret_grants = {g[1] for g in grants(repairing, role_id) if g[0].startswith("secrets")}
    assert json.dumps(variables[Env.WEBHOOK_SECRET_ARN], sort_keys=True) in secret_grants
    assert len(secret_grants) == 2
