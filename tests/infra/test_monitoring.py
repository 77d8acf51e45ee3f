"""Alarms reach the SNS topic; the e-mail subscription follows configuration; one dashboard."""

from __future__ import annotations

from typing import Any

import pytest

from functions.names import Metric
from local.template import synthesize
from tests.infra.test_stack import resources_of


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in resources_of(template, "AWS::CloudWatch::Alarm").items()
    }


def test_every_alarm_notifies_the_topic_when_raised_and_cleared(template: dict[str, Any]) -> None:
    (topic_id,) = resources_of(template, "AWS::SNS::Topic")

    for properties in alarms(template).values():
        assert properties["AlarmActions"] == [{"Ref": topic_id}]
        assert properties["OKActions"] == [{"Ref": topic_id}]
        assert properties["TreatMissingData"] == "notBreaching"
        assert properties["AlarmDescription"]


def test_alarms_cover_dead_letters_5xx_function_errors_and_reports_at_risk(
    template: dict[str, Any],
) -> None:
    found = alarms(template)
    metric_names = {properties.get("MetricName") for properties in found.values()}
    assert {
        "Errors",
        "Throttles",
        Metric.REPORTS_UNAVAILABLE,
        Metric.REPORTS_FAILED,
        Metric.RECORDINGS_NOT_QUEUED,
    } <= metric_names
    assert "ApproximateNumberOfMessagesVisible" in metric_names
    (rate,) = [p for p in found.values() if "Metrics" in p]
    expressions = [metric.get("Expression") for metric in rate["Metrics"]]
    assert "100 * errors / MAX([requests, 1])" in expressions
    names = {
        metric["MetricStat"]["Metric"]["MetricName"]
        for metric in rate["Metrics"]
        if "MetricStat" in metric
    }
    assert names == {"5xx", "Count"}
    at_risk = [p for p in found.values() if p.get("Namespace") == "CallFireReceiver"]
    assert all(
        p["Dimensions"] == [{"Name": "service", "Value": "callfire-receiver"}] for p in at_risk
    )


def test_topic_requires_tls(template: dict[str, Any]) -> None:
    (policy,) = resources_of(template, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


@pytest.mark.parametrize(
    ("context", "emails"), [({}, []), ({"alarmEmail": "ops@example.com"}, ["ops@example.com"])]
)
def test_email_subscription_only_when_configured(
    context: dict[str, str], emails: list[str], template: dict[str, Any]
) -> None:
    synthesized = synthesize(context) if context else template
    subscriptions = resources_of(synthesized, "AWS::SNS::Subscription").values()

    assert [
        s["Properties"]["Endpoint"] for s in subscriptions if s["Properties"]["Protocol"] == "email"
    ] == emails


def test_one_dashboard(template: dict[str, Any]) -> None:
    (dashboard,) = resources_of(template, "AWS::CloudWatch::Dashboard").values()
    body = str(dashboard["Properties"]["DashboardBody"])
    for title in (
        "Reports stored, by kind",
        "Refused, by reason",
        "Needs a person",
        "Postback API",
    ):
        assert title in body
