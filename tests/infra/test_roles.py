"""Every role in every configuration: no managed policy, no wildcard action, and a wildcard
resource only where AWS takes no ARN. The exact grants of each role are asserted next to its
construct's tests (test_stack, test_recordings_stack, test_registration); this test makes sure
no role escapes them."""

from __future__ import annotations

from typing import Any

import pytest

from local.template import synthesize
from tests.conftest import V2_CONTEXT
from tests.helpers import STEWARDED_CONTEXT

CONFIGURATIONS = {
    "defaults": {},
    "registration-traced": {"callfireApiKeySecretName": "callfire/api-key", "tracing": True},
    "disposable-data": {"retainData": False},
    "v2": V2_CONTEXT,
    "customer-key-and-retention": STEWARDED_CONTEXT,
}
ROLES_WITH_EXACT_GRANT_TESTS = {
    "PostbacksHandlerRole",
    "WebhooksHandlerRole",
    "RecordingsCopierRole",
    "RegistrationHandlerRole",
    "RegistrationProviderRole",
    "EventsPublisherRole",
    "WebhookRegistrationHandlerRole",
    "WebhookRegistrationProviderRole",
    "WebhookHealthHandlerRole",
    "UnstoredWatchHandlerRole",
}
CDK_MANAGED_ROLES = {"CustomS3AutoDeleteObjectsCustomResourceProviderRole"}
"""aws-cdk-lib's own provider for `retainData=false` (it empties the bucket before deletion)."""
ACTIONS_WITHOUT_RESOURCE_ARNS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def roles(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }


def statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    found = []
    for resource in template["Resources"].values():
        if (
            resource["Type"] == "AWS::IAM::Policy"
            and {"Ref": role_id} in resource["Properties"]["Roles"]
        ):
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    for inline in roles(template)[role_id].get("Policies", []):
        found += inline["PolicyDocument"]["Statement"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_every_role_is_known_and_least_privilege(
    configuration: str,
    template: dict[str, Any],
    v2_template: dict[str, Any],
    stewarded_template: dict[str, Any],
) -> None:
    shared = {
        "defaults": template,
        "v2": v2_template,
        "customer-key-and-retention": stewarded_template,
    }
    synthesized = shared.get(configuration) or synthesize(CONFIGURATIONS[configuration])

    for role_id, role in roles(synthesized).items():
        family = role_id[:-8]  # the logical id less CDK's 8-character hash
        assert family in ROLES_WITH_EXACT_GRANT_TESTS | CDK_MANAGED_ROLES, (
            f"{role_id} has no grant test"
        )
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }
        if family in CDK_MANAGED_ROLES:
            continue
        assert "ManagedPolicyArns" not in role, role_id
        for statement in statements(synthesized, role_id):
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{role_id} may do {action}"
                if "*" in as_list(statement["Resource"]):
                    assert action in ACTIONS_WITHOUT_RESOURCE_ARNS, f"{role_id}: {action} on *"
