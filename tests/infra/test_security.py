"""Security checks as tests: cdk-nag (AwsSolutions and Serverless packs) and cfn-lint, each
acknowledgment with its written reason, and proof that the checks can fail."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cfnlint.api
import pytest
from aws_cdk import aws_s3 as s3

from infra.config import ReceiverConfig
from infra.security import add_security_checks
from infra.stack import STACK_NAME, ReceiverStack
from local.template import cdk_json_context, synthesize

ACKNOWLEDGED = {
    "AwsSolutions-S1",
    "AwsSolutions-SMG4",
    "AwsSolutions-APIG4",
    "AwsSolutions-L1",
    "AwsSolutions-IAM5[Resource::<StorageBucket5CB7C8EA.Arn>/rejected/*]",
    "AwsSolutions-IAM5[Resource::<StorageBucket5CB7C8EA.Arn>/unstored/*]",
    "AwsSolutions-IAM5[Resource::<StorageBucket5CB7C8EA.Arn>/raw/*]",
    "AwsSolutions-IAM5[Resource::<StorageBucket5CB7C8EA.Arn>/recordings/*]",
    "AwsSolutions-IAM5[Resource::<StorageBucket5CB7C8EA.Arn>/events/*]",
    "AwsSolutions-IAM5[Resource::<StorageBucket5CB7C8EA.Arn>/archive-index/*]",
    "Serverless-EventBusDLQ",
    "Serverless-SQSRedrivePolicy",
    "Serverless-LambdaDLQ",
    "Serverless-LambdaEventSourceMappingDestination",
    "Serverless-LambdaLatestVersion",
    "Serverless-LambdaTracing",
    "AwsSolutions-SNS2",
    "AwsSolutions-SQS3",
}
"""Every finding the stack accepts. A new one must be added here, on purpose, with its reason
written where the construct acknowledges it."""

WITH_REGISTRATION = {"callfireApiKeySecretName": "callfire/api-key"}
ACKNOWLEDGED_WITH_REGISTRATION = ACKNOWLEDGED | {
    "AwsSolutions-IAM5[Resource::<RegistrationHandlerFunctionEF81EC5E.Arn>:*]",
    "Serverless-LambdaDefaultMemorySize",
}
"""What the stack accepts when it subscribes itself with CallFire (the Provider framework)."""
ACKNOWLEDGED_WITH_CUSTOMER_KEY = ACKNOWLEDGED_WITH_REGISTRATION - {"AwsSolutions-SNS2"}
"""With `kmsKeyArn` the alarm topic is encrypted: nothing about it is left to accept."""

ACKNOWLEDGED_WITH_WEBHOOKS = ACKNOWLEDGED_WITH_REGISTRATION | {
    "AwsSolutions-IAM5[Resource::<WebhookRegistrationHandlerFunction336FE76F.Arn>:*]",
    "Serverless-EventBusDLQ",
}
"""With `callfireApi=both`: the webhook registration's Provider framework too."""

ACKNOWLEDGED_LINT_RULES = {
    "W3005": "aws-cdk-lib makes every Lambda function DependsOn its role as well as referencing "
    "the role's ARN; the redundant dependency is harmless and not ours to remove.",
}


def acknowledgments(template: dict[str, Any]) -> dict[str, str]:
    found = {}
    for resource in template["Resources"].values():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found[rule["id"]] = rule["reason"]
    return found


def test_every_acknowledged_finding_is_listed_with_a_written_reason(
    template: dict[str, Any],
) -> None:
    acknowledged = acknowledgments(template)

    assert set(acknowledged) == ACKNOWLEDGED
    for rule_id, reason in acknowledged.items():
        assert len(reason) >= 60, f"{rule_id} needs a real reason, not {reason!r}"


def test_webhook_acknowledgments_are_listed_with_written_reasons(
    v2_template: dict[str, Any],
) -> None:
    acknowledged = acknowledgments(v2_template)

    assert set(acknowledged) == ACKNOWLEDGED_WITH_WEBHOOKS
    for rule_id, reason in acknowledged.items():
        assert len(reason) >= 60, f"{rule_id} needs a real reason, not {reason!r}"


def test_cfn_lint_finds_nothing_in_the_v2_template(v2_template: dict[str, Any]) -> None:
    assert lint(v2_template) == []


def test_registration_acknowledgments_are_listed_with_written_reasons() -> None:
    acknowledged = acknowledgments(synthesize(WITH_REGISTRATION))

    assert set(acknowledged) == ACKNOWLEDGED_WITH_REGISTRATION
    for rule_id, reason in acknowledged.items():
        assert len(reason) >= 60, f"{rule_id} needs a real reason, not {reason!r}"


def test_with_a_customer_key_and_retention_cdk_nag_passes_with_one_finding_less(
    stewarded_template: dict[str, Any],
) -> None:
    """The fixture synthesizes with cdk-nag on: an unacknowledged finding would have raised."""
    acknowledged = acknowledgments(stewarded_template)

    assert set(acknowledged) == ACKNOWLEDGED_WITH_CUSTOMER_KEY
    for rule_id, reason in acknowledged.items():
        assert len(reason) >= 60, f"{rule_id} needs a real reason, not {reason!r}"


def test_cfn_lint_finds_nothing_with_a_customer_key_and_retention(
    stewarded_template: dict[str, Any],
) -> None:
    assert lint(stewarded_template) == []


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"retainData": False},
        {"tracing": True},
        {"subscribeCampaignIds": "1,2"},
        WITH_REGISTRATION,
        {**WITH_REGISTRATION, "tracing": True, "subscribeCampaignIds": "1,2"},
        {"alarmEmail": "ops@example.com"},
    ],
    ids=[
        "defaults",
        "disposable-data",
        "tracing",
        "per-campaign",
        "registration",
        "registration-traced-per-campaign",
        "alarm-email",
    ],
)
def test_cdk_nag_passes_for_each_configuration(context: dict[str, Any]) -> None:
    template = synthesize(context)

    assert "Resources" in template


def test_cdk_nag_fails_the_synth_on_an_unacknowledged_finding() -> None:
    with tempfile.TemporaryDirectory() as outdir:
        app = cdk.App(outdir=outdir, context={**cdk_json_context(), "aws:cdk:bundling-stacks": []})
        stack = ReceiverStack(app, STACK_NAME, config=ReceiverConfig.from_context(app.node))
        s3.Bucket(stack, "CarelessBucket")
        add_security_checks(app)

        with pytest.raises(RuntimeError, match="ValidationFailed"):
            app.synth()

        report = json.loads((Path(outdir) / "validation-report.json").read_text())
    violations = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    assert violations == {
        ("AwsSolutions-S1", f"{STACK_NAME}/CarelessBucket/Resource"),
        ("AwsSolutions-S10", f"{STACK_NAME}/CarelessBucket/Resource"),
    }


def lint(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    matches = cfnlint.api.lint(
        json.dumps(template, indent=1),
        config=cfnlint.api.ManualArgs(
            regions=["us-east-1", "eu-west-1", "ap-southeast-2"],
            ignore_checks=list(ACKNOWLEDGED_LINT_RULES),
        ),
    )
    return [(match.rule.id, "/".join(map(str, match.path)), match.message) for match in matches]


@pytest.mark.parametrize(
    "context",
    [{}, {"retainData": False}, WITH_REGISTRATION],
    ids=["defaults", "disposable-data", "registration"],
)
def test_cfn_lint_finds_nothing_in_the_template(
    context: dict[str, Any], template: dict[str, Any]
) -> None:
    assert lint(synthesize(context) if context else template) == []


def test_cfn_lint_acknowledgments_have_reasons() -> None:
    assert all(len(reason) >= 60 for reason in ACKNOWLEDGED_LINT_RULES.values())


def test_cfn_lint_can_fail() -> None:
    broken = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": "soon"}}
        }
    }

    assert [finding[0] for finding in lint(broken)] != []
