"""Physical names that carry the stage, so that two stages live side by side in one account and
region. CloudFormation generates most names from the stack's name (which carries the stage);
a name written explicitly must start with the stage's prefix (`CallfireReceiver-<stage>-`).
tests/infra/test_stages.py synthesizes two stages and finds no collision."""

from __future__ import annotations

import jsii
from aws_cdk import IAspect, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct, IConstruct


def physical_name(scope: Construct, *parts: str) -> str:
    """`CallfireReceiver-<stage>-<parts...>` for a resource of the receiver stack."""
    prefix = getattr(Stack.of(scope), "name_prefix", None)
    if not isinstance(prefix, str):
        raise TypeError(f"{scope.node.path} is not in a receiver stack: no stage to name it by")
    return "-".join((prefix, *parts))


def stage_of(scope: Construct) -> str:
    stage = getattr(Stack.of(scope), "stage", None)
    if not isinstance(stage, str):
        raise TypeError(f"{scope.node.path} is not in a receiver stack: no stage")
    return stage


def readable_path(construct: IConstruct) -> list[str]:
    """The construct's path inside its stack, less CDK's `Resource` leaf: `Monitoring`,
    `ReportsUnavailable` for `CallfireReceiver/Monitoring/ReportsUnavailable/Resource`."""
    parts = construct.node.path.split("/")[1:]
    return [part for part in parts if part != "Resource"]


@jsii.implements(IAspect)
class NameAlarmsByStage:
    """Every alarm of the stack without an explicit name is named after the stage and its path
    (`CallfireReceiver-prod-Monitoring-ReportsUnavailable`): the name is what a notification's
    subject shows, so a person can tell which stage and which alarm at a glance."""

    def visit(self, node: IConstruct) -> None:
        if (
            isinstance(node, cloudwatch.CfnAlarm)
            and Stack.of(node).resolve(node.alarm_name) is None
        ):
            node.alarm_name = physical_name(node, *readable_path(node))
