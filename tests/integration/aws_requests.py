"""The AWS requests each function makes while it runs, as IAM authorizes them: the action each
request needs and the resource it names, to be evaluated against that function's role in the
template (tests/infra/iam_policy.py). moto authorizes nothing: a role that lacked a grant its code
needs (the webhooks role could not write `raw/`) passed every other test.

Which action an API operation needs is the Service Authorization Reference's ("Actions, resources,
and condition keys for ..." Amazon S3, Amazon DynamoDB, Amazon SQS, Amazon SNS, AWS Secrets
Manager, Amazon EventBridge): S3's multipart upload operations are authorized as `s3:PutObject`,
HeadObject as `s3:GetObject`, ListObjectsV2 as `s3:ListBucket` on the bucket, a DeleteObject of one
version as `s3:DeleteObjectVersion`; SQS's batch operations as their single forms. An operation
not listed here fails the check: add its action when the code starts to call it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.client import BaseClient

from functions.names import Handler
from local.resources import ACCOUNT_ID, LocalResources

Call = tuple[str, str, dict[str, Any]]
"""(service, operation, parameters) as the client was asked."""

S3_ACTIONS = {
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging",
    "DeleteObject": "s3:DeleteObject",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
}
S3_BUCKET_OPERATIONS = {"ListObjectsV2", "ListObjectVersions"}
DYNAMODB_ITEM_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"}
SQS_OPERATIONS = {
    "SendMessage",
    "SendMessageBatch",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "GetQueueAttributes",
}


class UnknownOperation(KeyError):
    """No IAM action is known here for an operation the code called."""


def authorizations(
    service: str, operation: str, params: Mapping[str, Any], region: str
) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) for each authorization the request needs."""
    if service == "s3" and operation in S3_ACTIONS:
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        action = S3_ACTIONS[operation]
        if operation == "DeleteObject" and params.get("VersionId"):
            action = "s3:DeleteObjectVersion"
        resource = bucket if operation in S3_BUCKET_OPERATIONS else f"{bucket}/{params['Key']}"
        return [(action, resource)]
    if service == "dynamodb" and operation in DYNAMODB_ITEM_OPERATIONS:
        table = str(params["TableName"])
        arn = (
            table
            if table.startswith("arn:")
            else f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"
        )
        if params.get("IndexName"):
            arn = f"{arn}/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", arn)]
    if service == "sqs" and operation in SQS_OPERATIONS:
        name = str(params["QueueUrl"]).rstrip("/").rsplit("/", 1)[1]
        arn = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}"
        return [(f"sqs:{operation.removesuffix('Batch')}", arn)]
    if service == "secretsmanager" and operation == "GetSecretValue":
        return [("secretsmanager:GetSecretValue", str(params["SecretId"]))]
    if service == "sns" and operation == "Publish":
        return [("sns:Publish", str(params["TopicArn"]))]
    if service == "events" and operation == "PutEvents":
        bus_parameter = "EventBusName"  # not a names.py name: a PutEvents parameter
        buses = {str(entry.get(bus_parameter, "default")) for entry in params["Entries"]}
        return [
            (
                "events:PutEvents",
                bus
                if bus.startswith("arn:")
                else f"arn:aws:events:{region}:{ACCOUNT_ID}:event-bus/{bus}",
            )
            for bus in sorted(buses)
        ]
    raise UnknownOperation(f"{service}:{operation}")


@dataclass
class AwsRequests:
    """The calls each handler made, by handler path."""

    calls: dict[str, list[Call]] = field(default_factory=dict)
    running: list[str] = field(default_factory=list)


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsRequests]:
    """Every boto3 call made while a function's handler runs, filed under that handler. Each
    handler is found through its module attribute, as `load_handler` finds it."""
    requests = AwsRequests()
    make_api_call = BaseClient._make_api_call

    def recorded(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if requests.running:
            service = client.meta.service_model.service_name
            requests.calls.setdefault(requests.running[-1], []).append(
                (service, operation, dict(params))
            )
        return make_api_call(client, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recorded)
        for path in handler_paths():
            module_name, _, attribute = path.rpartition(".")
            module = importlib.import_module(module_name)
            patch.setattr(module, attribute, _marking(requests, path, getattr(module, attribute)))
        yield requests


def handler_paths() -> list[str]:
    return [value for name, value in vars(Handler).items() if not name.startswith("_")]


def _marking(requests: AwsRequests, path: str, handler: Any) -> Any:
    def marked(event: Any, context: Any) -> Any:
        requests.running.append(path)
        try:
            return handler(event, context)
        finally:
            requests.running.pop()

    return marked


def role_statements(resources: LocalResources, handler: str) -> list[dict[str, Any]] | None:
    """The identity-policy statements of the role of the function that runs `handler`, with the
    template's references resolved to what was created locally; None when no function of the
    template runs it."""
    template = resources.template["Resources"]
    functions = [
        resource
        for resource in template.values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == handler
    ]
    if not functions:
        return None
    (function,) = functions
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for resource in template.values()
        if resource["Type"] == "AWS::IAM::Policy"
        and {"Ref": role_id} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    for inline in template[role_id]["Properties"].get("Policies", []):
        statements += inline["PolicyDocument"]["Statement"]
    return [_resolved(resources, statement) for statement in statements]


def _resolved(resources: LocalResources, statement: Mapping[str, Any]) -> dict[str, Any]:
    """The statement with each resource resolved; one that names something not created locally
    (a log group, X-Ray) stays unresolved and matches no request checked here."""
    found = []
    for resource in (
        statement["Resource"]
        if isinstance(statement["Resource"], list)
        else [statement["Resource"]]
    ):
        try:
            found.append(str(resources.resolve(resource)))
        except KeyError:
            found.append(f"unresolved:{resource}")
    return {**statement, "Resource": found}


def created_locally(resources: LocalResources) -> set[str]:
    """The ARNs (and queue URLs) of what the template created: a request naming anything else
    (a bucket or secret a test made for itself) is not the template's to authorize."""
    known = {value for value in resources.refs.values() if isinstance(value, str)}
    for attributes in resources.attributes.values():
        known |= {value for value in attributes.values() if isinstance(value, str)}
    known |= {
        f"arn:aws:s3:::{name}" for name in list(known) if not name.startswith(("arn:", "http"))
    }
    return known


def of_the_template(resource: str, known: set[str]) -> bool:
    return any(
        resource == arn or resource.startswith(f"{arn}/") for arn in known if arn.startswith("arn:")
    )
