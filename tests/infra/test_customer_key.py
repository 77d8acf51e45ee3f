"""`kmsKeyArn`: every table, the bucket, the queues, the topic and the stack's secrets use the
customer's key, and every role holds exactly the KMS grants its calls need, on that key only and
only through the service that holds the data. Without it, nothing names a KMS key.

What each call needs is derived here from each role's own statements, by the rules AWS documents
(the sources are listed in infra/customer_key.py), so a grant added for a new call is checked too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import CUSTOMER_KEY_ARN
from tests.infra.test_roles import as_list, roles, statements
from tests.infra.test_stack import resources_of

ENCRYPTED_BY = {
    "AWS::DynamoDB::Table": lambda p: p.get("SSESpecification", {}).get("KMSMasterKeyId"),
    "AWS::S3::Bucket": lambda p: p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ].get("KMSMasterKeyID"),
    "AWS::SQS::Queue": lambda p: p.get("KmsMasterKeyId"),
    "AWS::SNS::Topic": lambda p: p.get("KmsMasterKeyId"),
    "AWS::SecretsManager::Secret": lambda p: p.get("KmsKeyId"),
}
"""Where each kind of resource names its KMS key in CloudFormation."""
NO_REPORT_DATA = {"EventsDeadLetterQueue"}
"""Resources that hold no report data and keep their own encryption: the events dead-letter
queue holds stream positions only (shard and sequence numbers), and encrypting it would bring
CDK's on-failure grant with wildcard KMS actions."""

KMS_FOR_CALL = {
    "dynamodb": ({"kms:Decrypt"}, None),
    "s3:PutObject": ({"kms:GenerateDataKey"}, "s3"),
    "s3:GetObject": ({"kms:Decrypt"}, "s3"),
    "s3:AbortMultipartUpload": ({"kms:Decrypt"}, "s3"),
    "sqs:SendMessage": ({"kms:GenerateDataKey", "kms:Decrypt"}, "sqs"),
    "sqs:ReceiveMessage": ({"kms:Decrypt"}, "sqs"),
    "secretsmanager:GetSecretValue": ({"kms:Decrypt"}, "secretsmanager"),
    "sns:Publish": ({"kms:GenerateDataKey", "kms:Decrypt"}, "sns"),
}
"""The KMS actions a call makes its service perform with the caller's permissions: any DynamoDB
item call decrypts the table key; PutObject generates a data key, GetObject decrypts one, and a
multipart upload (the one kind that may be aborted) needs both; SendMessage generates and checks a
data key, ReceiveMessage decrypts; GetSecretValue decrypts; Publish to an encrypted topic needs
both (SNS Developer Guide, "Managing Amazon SNS encryption keys and costs": the publisher
needs `kms:GenerateDataKey*` and `kms:Decrypt`). Listing, tags, deletes, queue
attributes and visibility use no key."""


def encrypted_resources(template: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Every resource of a kind that holds data: its type and the KMS key it names."""
    return {
        logical_id: (resource["Type"], ENCRYPTED_BY[resource["Type"]](resource["Properties"]))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in ENCRYPTED_BY and logical_id[:-8] not in NO_REPORT_DATA
    }


def named_resource(resource: Any) -> str | None:
    """The logical id an IAM resource points at (`Ref`, `GetAtt` or an object ARN), if any."""
    text = json.dumps(resource)
    for marker in ('{"Ref": "', '{"Fn::GetAtt": ["'):
        if marker in text:
            return text.split(marker, 1)[1].split('"', 1)[0]
    return None


def needed(template: dict[str, Any], role_id: str) -> set[tuple[str, str, str]]:
    """(service, KMS action, secret) for every call of the role on data under the customer key.
    A secret the stack does not own (the CallFire API key, by name) may be under that key too."""
    encrypted = encrypted_resources(template)
    found = set()
    for statement in statements(template, role_id):
        for action in as_list(statement["Action"]):
            rule = KMS_FOR_CALL.get(action) or KMS_FOR_CALL.get(action.split(":")[0])
            if rule is None:
                continue
            kms_actions, service = rule
            for resource in as_list(statement["Resource"]):
                target = named_resource(resource)
                owned = target in encrypted
                if owned and encrypted[target][1] != CUSTOMER_KEY_ARN:
                    continue
                if not owned and not action.startswith("secretsmanager:"):
                    continue
                secret = json.dumps(resource, sort_keys=True) if service == "secretsmanager" else ""
                found |= {(service or "dynamodb", kms, secret) for kms in kms_actions}
    return found


def kms_statements(template: dict[str, Any], role_id: str) -> Iterator[dict[str, Any]]:
    for statement in statements(template, role_id):
        if any(action.startswith("kms:") for action in as_list(statement["Action"])):
            yield statement


def granted(template: dict[str, Any], role_id: str) -> set[tuple[str, str, str]]:
    """(service, KMS action, secret) for every KMS grant of the role, each checked to name the
    customer's key only and to hold only through one service."""
    found = set()
    for statement in kms_statements(template, role_id):
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == CUSTOMER_KEY_ARN
        conditions = statement["Condition"]
        endpoints = as_list(conditions["StringEquals"]["kms:ViaService"])
        vias = [endpoint["Fn::Join"][1] for endpoint in endpoints]
        assert all(via[1:] == [{"Ref": "AWS::Region"}, ".amazonaws.com"] for via in vias)
        service = vias[0][0].removesuffix(".")
        assert [via[0] for via in vias[1:]] in ([], ["streams.dynamodb."]), vias
        secrets = conditions.get("StringLike", {}).get("kms:EncryptionContext:SecretARN", [""])
        assert set(conditions) <= {"StringEquals", "StringLike"}
        assert (service == "secretsmanager") == (secrets != [""])
        for action in as_list(statement["Action"]):
            found |= {
                (service, action, json.dumps(secret, sort_keys=True) if secret else "")
                for secret in secrets
            }
    return found


def test_every_resource_that_holds_data_uses_the_customer_key(
    stewarded_template: dict[str, Any],
) -> None:
    encrypted = encrypted_resources(stewarded_template)

    assert {kind for kind, _ in encrypted.values()} == set(ENCRYPTED_BY)
    assert {key for _, key in encrypted.values()} == {CUSTOMER_KEY_ARN}
    (bucket,) = resources_of(stewarded_template, "AWS::S3::Bucket").values()
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {
        "BucketKeyEnabled": True,
        "ServerSideEncryptionByDefault": {
            "KMSMasterKeyID": CUSTOMER_KEY_ARN,
            "SSEAlgorithm": "aws:kms",
        },
    }
    for table in resources_of(stewarded_template, "AWS::DynamoDB::Table").values():
        assert table["Properties"]["SSESpecification"]["SSEType"] == "KMS"


def test_without_a_customer_key_no_resource_and_no_role_names_a_kms_key(
    template: dict[str, Any],
) -> None:
    assert {key for _, key in encrypted_resources(template).values()} == {None}
    for role_id in roles(template):
        assert list(kms_statements(template, role_id)) == []
    assert "kms:" not in json.dumps(template["Resources"])


@pytest.mark.parametrize("configuration", ["legacy", "v2"])
def test_every_role_has_exactly_the_kms_grants_its_calls_need(
    configuration: str,
    stewarded_template: dict[str, Any],
    v2_stewarded_template: dict[str, Any],
) -> None:
    """Also with v2 webhooks: their registration and health roles read the webhook secret and
    the CallFire credentials, and the webhooks role publishes LowBalance to the topic."""
    template = {"legacy": stewarded_template, "v2": v2_stewarded_template}[configuration]
    checked = {}
    for role_id in roles(template):
        checked[role_id[:-8]] = needed(template, role_id)
        assert granted(template, role_id) == checked[role_id[:-8]], role_id
    if configuration == "v2":
        assert {"WebhookRegistrationHandlerRole", "WebhookHealthHandlerRole"} <= set(checked)

    services = {family: {service for service, _, _ in grants} for family, grants in checked.items()}
    assert services["PostbacksHandlerRole"] == {"dynamodb", "s3", "sqs", "secretsmanager"}
    assert services["RecordingsCopierRole"] == {"dynamodb", "s3", "sqs", "secretsmanager"}
    assert services["RegistrationHandlerRole"] == {"secretsmanager", "s3"}
    assert services["UnstoredWatchHandlerRole"] == set()
    assert services["RegistrationProviderRole"] == set()
    assert services["WebhooksHandlerRole"] == {"dynamodb", "s3", "sqs", "secretsmanager", "sns"}


def test_secret_grants_name_each_secret_the_role_reads(stewarded_template: dict[str, Any]) -> None:
    (postback_role,) = [r for r in roles(stewarded_template) if r.startswith("PostbacksHandler")]
    secrets = {
        secret
        for service, _, secret in granted(stewarded_template, postback_role)
        if service == "secretsmanager"
    }

    assert {json.loads(secret)["Ref"] for secret in secrets} == {
        logical_id
        for logical_id in resources_of(stewarded_template, "AWS::SecretsManager::Secret")
        if logical_id.startswith(("PostbacksTokenSecret", "StorageHashSalt"))
    }


@pytest.mark.parametrize(
    ("family", "drop"),
    [("RecordingsCopierRole", ("s3", "kms:Decrypt")), ("PostbacksHandlerRole", ("sqs", None))],
    ids=["multipart-decrypt", "all-of-sqs"],
)
def test_the_grant_check_sees_a_missing_grant(
    family: str, drop: tuple[str, str | None], stewarded_template: dict[str, Any]
) -> None:
    broken = copy.deepcopy(stewarded_template)
    (role_id,) = [r for r in roles(broken) if r.startswith(family)]
    service, action = drop
    for statement in kms_statements(broken, role_id):
        via = statement["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Join"][1][0]
        if via == f"{service}.":
            kept = [a for a in as_list(statement["Action"]) if action is not None and a != action]
            statement["Action"] = kept or ["kms:DescribeKey"]

    assert granted(broken, role_id) != needed(broken, role_id)
