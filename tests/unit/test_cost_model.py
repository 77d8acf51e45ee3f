"""The monthly bill (`python -m bench cost`) counts what the template and names.py declare, and
applies AWS's billing rules: per metric-hour with data, per alarm metric beyond 10 free, per
dashboard beyond 3 free, per secret."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from bench import cost
from functions.names import METRIC_DIMENSION_SETS, Dimension, Metric

MEASURED = cost.Measured(
    handler_us=dict.fromkeys(cost.MIX, 250.0),
    item_bytes={
        "call_finished": 1386,
        "text_sent": 665,
        "text_reply": 752,
        "campaign_finished": 865,
    },
    index_entries={"call_finished": 2, "text_sent": 2, "text_reply": 2, "campaign_finished": 0},
    index_bytes={"call_finished": 370, "text_sent": 318, "text_reply": 349, "campaign_finished": 0},
    log_bytes=dict.fromkeys(cost.MIX, 750),
    memory_mb=256,
    quiet_log_bytes=dict.fromkeys(cost.MIX, 350),
)


def resources_of(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_the_inventory_is_what_the_template_and_names_declare(template: dict[str, Any]) -> None:
    stack = cost.inventory(template)
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    math_alarm_metrics = sum(
        len([q for q in a.get("Metrics", []) if "MetricStat" in q]) for a in alarms
    )

    assert stack.alarm_metrics == len([a for a in alarms if "MetricName" in a]) + math_alarm_metrics
    assert sorted(stack.custom_metrics) == sorted(
        (name, dimensions) for name, sets in METRIC_DIMENSION_SETS.items() for dimensions in sets
    )
    assert stack.dashboards == len(resources_of(template, "AWS::CloudWatch::Dashboard")) == 1
    assert stack.log_widgets == 3
    assert stack.secrets == len(resources_of(template, "AWS::SecretsManager::Secret"))
    assert stack.sqs_event_sources == 1
    assert 0 < stack.dashboard_metrics <= 50, "the free tier covers dashboards of 50 metrics"


def test_one_more_alarm_is_one_more_alarm_metric(template: dict[str, Any]) -> None:
    more = copy.deepcopy(template)
    alarm_id = next(
        logical_id
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and "MetricName" in r["Properties"]
    )
    more["Resources"]["Another"] = copy.deepcopy(template["Resources"][alarm_id])

    assert cost.inventory(more).alarm_metrics == cost.inventory(template).alarm_metrics + 1


def test_alarms_and_dashboards_beyond_the_free_tier_are_billed(template: dict[str, Any]) -> None:
    stack = replace(cost.inventory(template), alarm_metrics=12, dashboards=4)

    idle = cost.bill(0, MEASURED, stack)

    assert idle.billed["CloudWatch alarms"] == pytest.approx(0.20)
    assert idle.billed["CloudWatch dashboards"] == pytest.approx(3.00)
    assert idle.total("per report") == idle.total("storage") == 0


def test_a_custom_metric_costs_for_the_hours_it_receives_data(template: dict[str, Any]) -> None:
    stack = cost.inventory(template)

    idle = cost.metric_months(stack, 0)
    busy = cost.metric_months(stack, 100_000_000)

    assert idle == 0
    assert len(stack.custom_metrics) / 2 < busy <= len(stack.custom_metrics)
    assert 0 < cost.metric_months(stack, 10_000) < cost.metric_months(stack, 1_000_000) < busy


def test_each_extra_dimension_set_is_billed_per_value() -> None:
    one = cost.Inventory(((Metric.REPORTS_STORED, (Dimension.SERVICE,)),), 0, 0, 0, 0, 0, 0, 0, 90)
    split = replace(one, custom_metrics=(*one.custom_metrics, (Metric.REPORTS_STORED, ("kind",))))

    assert cost.metric_months(split, 100_000_000) == pytest.approx(
        1 + cost.ASSUMPTIONS["values per dimension other than service (kind, reason)"], rel=0.01
    )
    assert cost.metric_months(one, 100_000_000) == pytest.approx(1, rel=0.01)


def test_a_metric_without_an_assumed_rate_is_counted_every_hour() -> None:
    unknown = cost.Inventory((("SomethingNew", (Dimension.SERVICE,)),), 0, 0, 0, 0, 0, 0, 0, 90)

    assert cost.metric_months(unknown, 0) == 1


def test_fixed_costs_are_spread_thinner_as_volume_grows(template: dict[str, Any]) -> None:
    stack = cost.inventory(template)
    per_million = [cost.bill(n, MEASURED, stack).per_million() for n in (10_000, 1_000_000)]

    assert per_million[0] > per_million[1]
