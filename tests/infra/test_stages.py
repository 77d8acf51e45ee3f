"""Stages side by side: two stages synthesized for one account and region share no physical name,
export or log group, and every name written explicitly carries the stage. The default stage keeps
the stack name users already deployed (`CallfireReceiver`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from functions.names import (
    DEFAULT_STAGE,
    STACK_NAME,
    Context,
    Output,
    physical_name_prefix,
    stack_name,
)
from infra.config import ConfigError, ReceiverConfig
from infra.constructs.python_function import LOG_LEVEL_VARIABLE
from local.template import synthesize
from tests.infra.deployed import NAME_PROPERTIES, NOT_PHYSICAL_NAMES, Deployed

OTHER_STAGE = "staging"


@pytest.fixture(scope="module")
def stages(template: dict[str, Any]) -> dict[str, Deployed]:
    """The default stage, and another one that also sets `logLevel` (one synth checks both)."""
    other = synthesize({Context.STAGE: OTHER_STAGE, Context.LOG_LEVEL: "warning"})
    return {
        DEFAULT_STAGE: Deployed(template, stack_name(DEFAULT_STAGE)),
        OTHER_STAGE: Deployed(other, stack_name(OTHER_STAGE)),
    }


def named_resources(deployed: Deployed) -> dict[str, tuple[str, str]]:
    """Each named resource's logical id: (its type, its physical name, generated or explicit)."""
    return {
        logical_id: (resource["Type"], deployed.physical_name(logical_id))
        for logical_id, resource in deployed.template["Resources"].items()
        if resource["Type"] in NAME_PROPERTIES
    }


def explicit_names(deployed: Deployed) -> dict[str, str]:
    return {
        f"{logical_id}.{name_property}": str(
            deployed.resolve(resource["Properties"][name_property])
        )
        for logical_id, resource in deployed.template["Resources"].items()
        for name_property in resource.get("Properties", {})
        if name_property.endswith("Name")
        and (resource["Type"], name_property) not in NOT_PHYSICAL_NAMES
    }


def exports(deployed: Deployed) -> set[str]:
    return {
        str(deployed.resolve(output["Export"]["Name"]))
        for output in deployed.template.get("Outputs", {}).values()
        if "Export" in output
    }


def carries(name: str, stage: str) -> bool:
    prefix = re.escape(physical_name_prefix(stage))
    return re.search(rf"(?<![A-Za-z0-9]){prefix}(?![A-Za-z0-9])", name) is not None


def test_the_default_stage_keeps_the_deployed_stack_name() -> None:
    assert stack_name(DEFAULT_STAGE) == STACK_NAME == "CallfireReceiver"
    assert stack_name(OTHER_STAGE) == "CallfireReceiver-staging"


def test_two_stages_share_no_physical_name_export_or_log_group(
    stages: dict[str, Deployed],
) -> None:
    first, second = stages.values()
    names = [
        {(kind, name) for kind, name in named_resources(deployed).values()}
        for deployed in (first, second)
    ]

    assert first.stack_name != second.stack_name
    assert names[0] & names[1] == set()
    assert exports(first) & exports(second) == set()
    log_groups = [
        {name for kind, name in found if kind == "AWS::Logs::LogGroup"} for found in names
    ]
    assert log_groups[0]
    assert log_groups[0] & log_groups[1] == set()


def test_every_explicit_name_carries_its_stage(stages: dict[str, Deployed]) -> None:
    for stage, deployed in stages.items():
        unknown = {
            where
            for where in explicit_names(deployed)
            if deployed.type_of(where.split(".")[0]) not in NAME_PROPERTIES
        }
        assert unknown == set(), "a name property test_stages does not know: add it to deployed.py"
        found = explicit_names(deployed)
        assert found, "no explicit name: nothing to check"
        assert [
            f"{where}: {name}" for where, name in found.items() if not carries(name, stage)
        ] == []
        assert all(carries(name, stage) for name in exports(deployed))


def test_alarms_and_the_dashboard_are_named_by_stage(stages: dict[str, Deployed]) -> None:
    for stage, deployed in stages.items():
        alarms = deployed.resources("AWS::CloudWatch::Alarm")
        (dashboard,) = deployed.resources("AWS::CloudWatch::Dashboard").values()

        assert dashboard["DashboardName"] == physical_name_prefix(stage)
        assert alarms
        assert all(
            properties["AlarmName"].startswith(f"{physical_name_prefix(stage)}-")
            for properties in alarms.values()
        )


def test_every_stage_has_every_output(stages: dict[str, Deployed]) -> None:
    first, second = (set(deployed.template["Outputs"]) for deployed in stages.values())

    assert first == second
    assert Output.POSTBACK_URL in first


@pytest.mark.parametrize("stage", ["Prod", "1st", "a_b", "a--b", "a-", "x" * 21, "a b"])
def test_a_stage_that_cannot_name_a_stack_fails_the_synth(stage: str) -> None:
    with pytest.raises(ConfigError, match="stage must be"):
        ReceiverConfig(stage=stage).validate()


def test_the_log_level_reaches_every_function(stages: dict[str, Deployed]) -> None:
    for stage, level in ((DEFAULT_STAGE, "INFO"), (OTHER_STAGE, "WARNING")):
        functions = stages[stage].resources("AWS::Lambda::Function").values()
        levels = {
            f["Environment"]["Variables"][LOG_LEVEL_VARIABLE]
            for f in functions
            if f.get("Handler", "").startswith("functions.")
        }
        assert levels == {level}


def test_an_unknown_log_level_fails_the_synth() -> None:
    with pytest.raises(ConfigError, match="logLevel must be one of"):
        ReceiverConfig(log_level="LOUD").validate()
