"""cdk-nag's AwsSolutions and Serverless packs, run at every synth: a finding fails the synth
unless the construct it concerns acknowledges it with a written reason."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct


def add_security_checks(app: cdk.App) -> None:
    """Acknowledgments are also written into each resource's Metadata (`cdk_nag`), so the
    template carries its own audit trail of what was accepted and why."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True),
        ServerlessChecks(app, write_suppressions_to_cloud_formation=True),
    )


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of `construct` (or of its default child), as cdk-nag names it
    in granular finding ids such as `AwsSolutions-IAM5[Resource::<Id.Arn>/prefix/*]`."""
    resource = construct.node.default_child or construct
    stack = cdk.Stack.of(construct)
    return str(stack.resolve(stack.get_logical_id(resource)))  # type: ignore[arg-type]
