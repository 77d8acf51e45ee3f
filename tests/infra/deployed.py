"""A template as CloudFormation would deploy it into one account, without deploying it: each
resource's physical name (the one the template gives, else one generated as CloudFormation does:
`<stack>-<logical id>-<suffix>`), what `Ref` and `Fn::GetAtt` return for it, and every intrinsic
resolved. Enough to evaluate policies against the ARNs a real deployment would have."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.helpers import REGION

ACCOUNT = "111122223333"
PARTITION = "aws"

NAME_PROPERTIES = {
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::S3::Bucket": "BucketName",  # not a names.py name: AWS::S3::Bucket's own property
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Pipes::Pipe": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Logs::ResourcePolicy": "PolicyName",
    "AWS::Events::Archive": "ArchiveName",
    "AWS::Events::Connection": "Name",
    "AWS::Events::ApiDestination": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Lambda::LayerVersion": "LayerName",
}
"""The property that holds each resource type's physical name, when the template sets it."""
NOT_PHYSICAL_NAMES = {
    ("AWS::ApiGatewayV2::Stage", "StageName"),  # unique per API only
    ("AWS::CloudWatch::Alarm", "MetricName"),
    ("AWS::IAM::Policy", "PolicyName"),  # an inline policy, unique per role only
    ("AWS::Lambda::EventSourceMapping", "FunctionName"),  # a reference
    ("AWS::Lambda::Permission", "FunctionName"),  # a reference
    ("AWS::SNS::Topic", "DisplayName"),
    ("Custom::S3AutoDeleteObjects", "BucketName"),  # not a names.py name: a reference
}
"""Properties ending in `Name` that name something else than the resource itself."""


@dataclass(frozen=True)
class Deployed:
    template: dict[str, Any]
    stack_name: str
    region: str = REGION
    account: str = ACCOUNT

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource.get("Properties", {})
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def type_of(self, logical_id: str) -> str:
        resource_type: str = self.template["Resources"][logical_id]["Type"]
        return resource_type

    def physical_name(self, logical_id: str) -> str:
        resource_type = self.type_of(logical_id)
        properties = self.template["Resources"][logical_id].get("Properties", {})
        explicit = properties.get(NAME_PROPERTIES.get(resource_type, ""))
        if explicit is not None:
            return str(self.resolve(explicit))
        suffix = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).hexdigest()[:12]
        name = f"{self.stack_name}-{logical_id}-{suffix.upper()}"
        return name.lower() if resource_type == "AWS::S3::Bucket" else name

    def arn(self, logical_id: str) -> str:
        name = self.physical_name(logical_id)
        where = f"{self.region}:{self.account}"
        arns = {
            "AWS::SNS::Topic": f"sns:{where}:{name}",
            "AWS::CloudWatch::Alarm": f"cloudwatch:{where}:alarm:{name}",
            "AWS::CloudWatch::CompositeAlarm": f"cloudwatch:{where}:alarm:{name}",
            "AWS::IAM::Role": f"iam::{self.account}:role/{name}",
            "AWS::Lambda::Function": f"lambda:{where}:function:{name}",
            "AWS::SQS::Queue": f"sqs:{where}:{name}",
            "AWS::S3::Bucket": f"s3:::{name}",
            "AWS::DynamoDB::Table": f"dynamodb:{where}:table/{name}",
            "AWS::Logs::LogGroup": f"logs:{where}:log-group:{name}:*",
            "AWS::SecretsManager::Secret": f"secretsmanager:{where}:secret:{name}-AbCdEf",
            "AWS::Events::Rule": f"events:{where}:rule/{name}",
            "AWS::Events::EventBus": f"events:{where}:event-bus/{name}",
        }
        resource_type = self.type_of(logical_id)
        tail = arns.get(resource_type, f"{resource_type.split('::')[1].lower()}:{where}:{name}")
        return f"arn:{PARTITION}:{tail}"

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        resource_type = self.type_of(name)
        if resource_type in {"AWS::SNS::Topic", "AWS::SecretsManager::Secret"}:
            return self.arn(name)
        if resource_type == "AWS::SQS::Queue":
            return (
                f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.physical_name(name)}"
            )
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute.endswith("Arn") and attribute != "StreamArn":
            return self.arn(logical_id)
        if attribute.endswith("Name"):
            return self.physical_name(logical_id)
        if attribute == "QueueUrl":
            return self.ref(logical_id)
        return f"{self.arn(logical_id)}/{attribute}"

    def resolve(self, value: Any) -> Any:
        """Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split and Fn::Sub, resolved."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
            return {name: self.resolve(item) for name, item in value.items()}
        ((function, argument),) = value.items()
        if function == "Ref":
            return self.ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = (
                argument if isinstance(argument, list) else argument.split(".", 1)
            )
            return self.get_att(logical_id, attribute)
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(str(item) for item in self.resolve(items))
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if function == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text)).split(separator)
        if function == "Fn::Sub":
            return self._sub(argument)
        raise ValueError(f"cannot resolve {function}")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved = {name: self.resolve(v) for name, v in variables.items()}
        out, rest = [], text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            out.append(before)
            if name in resolved:
                out.append(str(resolved[name]))
            elif "." in name:
                out.append(self.get_att(*name.split(".", 1)))
            else:
                out.append(self.ref(name))
        return "".join(out) + rest


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) inside a resolved property tree, leaves and branches."""
    yield path, value
    if isinstance(value, dict):
        for name, item in value.items():
            yield from walk(item, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def strings(value: Any) -> set[str]:
    """Every string inside a resolved property tree."""
    return {item for _, item in walk(value) if isinstance(item, str)}
