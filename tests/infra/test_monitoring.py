"""Alarms reach the SNS topic; the e-mail subscription follows configuration; one dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from functions.names import Metric
from infra.config import MAX_SILENCE_ALARM_HOURS, ConfigError, ReceiverConfig
from local.template import synthesize
from tests.infra.test_stack import resources_of


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in resources_of(template, "AWS::CloudWatch::Alarm").items()
    }


def test_every_alarm_notifies_the_topic_when_raised_and_cleared(template: dict[str, Any]) -> None:
    (topic_id,) = resources_of(template, "AWS::SNS::Topic")

    for logical_id, properties in alarms(template).items():
        assert properties["AlarmActions"] == [{"Ref": topic_id}]
        assert properties["OKActions"] == [{"Ref": topic_id}]
        silence = logical_id.startswith(SILENCE_ALARM)
        assert properties["TreatMissingData"] == ("breaching" if silence else "notBreaching")
        assert properties["AlarmDescription"]


SILENCE_ALARM = "MonitoringReportsSilent"
PUT_METRIC_ALARM_LIMIT_SECONDS = 604_800
"""PutMetricAlarm, `Period`: "An alarm's total current evaluation period can be no longer than
seven days, so Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For
alarms with a period of less than one hour (3,600 seconds), the total evaluation period can't be
longer than one day (86,400 seconds)." (CloudWatch API reference, PutMetricAlarm; the same text
is in botocore's cloudwatch service model). `Valid values are 10, 20, 30, and any multiple of
60.` A template over the limit fails at deploy time, which moto never shows."""
SHORT_PERIOD_LIMIT_SECONDS = 86_400


def silence_alarm(template: dict[str, Any]) -> dict[str, Any]:
    (properties,) = [p for i, p in alarms(template).items() if i.startswith(SILENCE_ALARM)]
    return properties


def test_silence_alarm_fires_when_no_report_arrives_for_a_day(template: dict[str, Any]) -> None:
    """`ReportsSilent`: fewer than 1 report in each of 24 one-hour periods, missing data counted
    as breaching, so a receiver nobody posts to (no data at all) raises it too."""
    properties = silence_alarm(template)

    assert properties["AlarmName"] == "CallfireReceiver-prod-Monitoring-ReportsSilent"
    assert (properties["Namespace"], properties["MetricName"]) == (
        "CallFireReceiver",
        Metric.REPORTS_RECEIVED,
    )
    assert properties["Dimensions"] == [{"Name": "service", "Value": "callfire-receiver"}]
    assert (properties["Statistic"], properties["Period"]) == ("Sum", 3600)
    assert properties["ComparisonOperator"] == "LessThanThreshold"
    assert properties["Threshold"] == 1
    assert properties["EvaluationPeriods"] == properties["DatapointsToAlarm"] == 24
    assert properties["TreatMissingData"] == "breaching"
    description = properties["AlarmDescription"]
    for what_to_check in ("subscription", "token", "CallFire account", "make smoke"):
        assert what_to_check in description


def test_silence_alarm_respects_cloudwatch_s_evaluation_limit_up_to_its_longest_setting(
    template: dict[str, Any],
) -> None:
    period = silence_alarm(template)["Period"]

    assert period % 60 == 0
    assert period >= 3600, f"shorter periods may only span {SHORT_PERIOD_LIMIT_SECONDS} s"
    assert period * silence_alarm(template)["EvaluationPeriods"] <= PUT_METRIC_ALARM_LIMIT_SECONDS
    assert period * MAX_SILENCE_ALARM_HOURS <= PUT_METRIC_ALARM_LIMIT_SECONDS
    assert period * (MAX_SILENCE_ALARM_HOURS + 1) > PUT_METRIC_ALARM_LIMIT_SECONDS


def test_silence_alarm_hours_zero_switches_it_off() -> None:
    synthesized = synthesize({"silenceAlarmHours": "0"})

    assert [i for i in alarms(synthesized) if i.startswith(SILENCE_ALARM)] == []
    assert alarms(synthesized), "the other alarms stay"


@pytest.mark.parametrize(
    ("value", "hours"), [(None, 24), ("", 24), ("0", 0), (0, 0), ("48", 48), (168, 168)]
)
def test_silence_alarm_hours_are_read_from_context(value: Any, hours: int) -> None:
    assert config_with({"silenceAlarmHours": value}).silence_alarm_hours == hours


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("169", r"0 \(no alarm\) to 168"),
        ("-1", "whole number"),
        ("1.5", "whole number"),
        ("a day", "whole number"),
        (True, "whole number"),
    ],
)
def test_silence_alarm_hours_outside_cloudwatch_s_limit_fail_the_synth(
    value: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        config_with({"silenceAlarmHours": value})


def config_with(context: dict[str, Any]) -> ReceiverConfig:
    app = App(context=context)
    return ReceiverConfig.from_context(app.node)


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
