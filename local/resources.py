"""The template's stateful resources, created for real on a moto endpoint (in-process or server).

Tables with their keys, indexes and streams, the bucket, the queues with their redrive policy, the
secrets, the event bus and its archive are created from their CloudFormation properties; functions,
HTTP routes and event source mappings are read so that the local gateway and consumers run the
handlers the template names, with the environment it gives them. Nothing here is declared twice:
change the stack and the local system follows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from typing import Any

ACCOUNT_ID = "123456789012"
CFN_BUCKET_NAME = "BucketName"  # not a names.py name: AWS::S3::Bucket's own property
Client = Any
ClientFactory = Callable[[str], Client]


@dataclass(frozen=True)
class LocalFunction:
    logical_id: str
    handler: str
    environment: dict[str, str]
    timeout: int
    memory_size: int


DEFAULT_STAGE = "$default"
DEFAULT_INTEGRATION_TIMEOUT_MS = 30_000
"""An HTTP API integration's timeout when the template sets no `TimeoutInMillis` (and its maximum):
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"""
ACCOUNT_THROTTLE = (10_000.0, 5_000)
"""API Gateway's default account-level throttle per Region (rate per second, burst): what a route
gets for a limit its stage leaves unset.
https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"""


@dataclass(frozen=True)
class Throttle:
    """A route's throttle: a token bucket holding up to `burst_limit` requests, refilled at
    `rate_limit` requests per second.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html"""

    rate_limit: float
    burst_limit: int


@dataclass(frozen=True)
class HttpRoute:
    """An HTTP API route (`POST /postbacks`) and what API Gateway applies to it."""

    route_key: str
    function: LocalFunction
    api_id: str
    stage: str
    throttle: Throttle | None
    """None when the stage sets no limit: only the account-level throttle, not emulated."""
    integration_timeout_ms: int


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source mapping: which function consumes which queue, and how."""

    function_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    reports_item_failures: bool


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB stream event source mapping: which function consumes which table's stream,
    and how Lambda would retry, split and dead-letter its batches."""

    function_id: str
    stream_arn: str
    batch_size: int
    starting_position: str
    bisect_on_error: bool
    retry_attempts: int
    """-1: until the record expires."""
    max_record_age_seconds: int
    """-1: no limit."""
    reports_item_failures: bool
    filters: tuple[dict[str, Any], ...]
    on_failure_queue_url: str | None


@dataclass(frozen=True)
class CustomResource:
    """A custom resource whose Provider framework calls `function` with lifecycle events."""

    logical_id: str
    resource_type: str
    function: LocalFunction
    properties: dict[str, Any]


@dataclass
class LocalResources:
    template: dict[str, Any]
    region: str
    stack_name: str
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select) resolved."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {name: self.resolve(item) for name, item in value.items()}
        ((function, argument),) = value.items()
        if function == "Ref":
            return self._ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = (
                argument if isinstance(argument, list) else argument.split(".", 1)
            )
            return self.attributes[logical_id][attribute]
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(str(self.resolve(item)) for item in items)
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(index)]
        if function == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub(m.group(1))), argument)
        return {function: self.resolve(argument)}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
        }
        return pseudo[name] if name in pseudo else self.refs[name]

    def _sub(self, name: str) -> str:
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self.attributes[logical_id][attribute]
        return self._ref(name)

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def functions(self) -> dict[str, LocalFunction]:
        found = {}
        for logical_id, resource in self.resources_of_type("AWS::Lambda::Function").items():
            properties = resource["Properties"]
            if "Handler" not in properties or not properties["Handler"].startswith("functions."):
                continue
            variables = properties.get("Environment", {}).get("Variables", {})
            found[logical_id] = LocalFunction(
                logical_id=logical_id,
                handler=properties["Handler"],
                environment={name: str(self.resolve(value)) for name, value in variables.items()},
                timeout=int(properties.get("Timeout", 3)),
                memory_size=int(properties.get("MemorySize", 128)),
            )
        return found

    def function_for_handler(self, handler: str) -> LocalFunction:
        matches = [
            function for function in self.functions().values() if function.handler == handler
        ]
        if len(matches) != 1:
            raise LookupError(f"expected one function with handler {handler}, found {len(matches)}")
        return matches[0]

    def routes(self) -> dict[str, LocalFunction]:
        """HTTP routes (`POST /postbacks`) to the function their integration invokes."""
        return {key: route.function for key, route in self.http_routes().items()}

    def http_routes(self) -> dict[str, HttpRoute]:
        """Every HTTP API route with what the local gateway needs to serve it as AWS would: its
        function, its API's id and stage, the stage's throttle for it and the integration's
        timeout. One gateway serves them all, so a route key may appear only once."""
        functions = self.functions()
        routes: dict[str, HttpRoute] = {}
        for resource in self.resources_of_type("AWS::ApiGatewayV2::Route").values():
            properties = resource["Properties"]
            target = properties["Target"]["Fn::Join"][1][1]["Ref"]
            integration = self.template["Resources"][target]["Properties"]
            function_id = integration["IntegrationUri"]["Fn::GetAtt"][0]
            api = properties["ApiId"]["Ref"]
            key = properties["RouteKey"]
            if key in routes:
                raise ValueError(f"two HTTP APIs declare {key}; the local gateway serves one")
            stage = self._stage_of(api)
            routes[key] = HttpRoute(
                route_key=key,
                function=functions[function_id],
                api_id=self.refs.get(api, api),
                stage=stage.get("StageName", DEFAULT_STAGE),
                throttle=_throttle(stage, key),
                integration_timeout_ms=int(
                    integration.get("TimeoutInMillis", DEFAULT_INTEGRATION_TIMEOUT_MS)
                ),
            )
        return routes

    def _stage_of(self, api: str) -> dict[str, Any]:
        """The properties of the stage the local gateway serves for `api`: `$default` when the
        template has it, else the first by name (the local gateway serves one stage per API)."""
        stages = sorted(
            (
                {
                    name: self.resolve(value)
                    for name, value in resource["Properties"].items()
                    if name in ("StageName", "DefaultRouteSettings", "RouteSettings")
                }
                for resource in self.resources_of_type("AWS::ApiGatewayV2::Stage").values()
                if resource["Properties"].get("ApiId") == {"Ref": api}
            ),
            key=lambda stage: (stage.get("StageName") != DEFAULT_STAGE, stage.get("StageName")),
        )
        return stages[0] if stages else {}

    def _mappings_of(self, source_type: str) -> list[tuple[dict[str, Any], str]]:
        """The event source mappings whose source is a `source_type` resource, each with the
        logical id of that resource."""
        found = []
        for mapping in self.resources_of_type("AWS::Lambda::EventSourceMapping").values():
            properties = mapping["Properties"]
            source_id = properties["EventSourceArn"]["Fn::GetAtt"][0]
            if self.template["Resources"][source_id]["Type"] == source_type:
                found.append((properties, source_id))
        return found

    def stream_sources(self) -> list[StreamSource]:
        sources = []
        for properties, table_id in self._mappings_of("AWS::DynamoDB::Table"):
            destination = properties.get("DestinationConfig", {}).get("OnFailure", {})
            queue_id = _get_att_target(destination.get("Destination"))
            sources.append(
                StreamSource(
                    function_id=properties["FunctionName"]["Ref"],
                    stream_arn=self.attributes[table_id]["StreamArn"],
                    batch_size=int(properties.get("BatchSize", 100)),
                    starting_position=properties.get("StartingPosition", "LATEST"),
                    bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
                    retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
                    max_record_age_seconds=int(properties.get("MaximumRecordAgeInSeconds", -1)),
                    reports_item_failures="ReportBatchItemFailures"
                    in properties.get("FunctionResponseTypes", []),
                    filters=tuple(
                        json.loads(entry["Pattern"])
                        for entry in properties.get("FilterCriteria", {}).get("Filters", [])
                    ),
                    on_failure_queue_url=self.refs[queue_id] if queue_id else None,
                )
            )
        return sources

    def queue_sources(self) -> list[QueueSource]:
        sources = []
        for properties, queue_id in self._mappings_of("AWS::SQS::Queue"):
            sources.append(
                QueueSource(
                    function_id=properties["FunctionName"]["Ref"],
                    queue_url=self.refs[queue_id],
                    queue_arn=self.attributes[queue_id]["Arn"],
                    batch_size=int(properties.get("BatchSize", 10)),
                    reports_item_failures="ReportBatchItemFailures"
                    in properties.get("FunctionResponseTypes", []),
                )
            )
        return sources

    def custom_resources(self) -> list[CustomResource]:
        """Custom resources served by a CDK Provider whose on-event function is ours."""
        functions = self.functions()
        found = []
        for logical_id, resource in self.template["Resources"].items():
            if not resource["Type"].startswith("Custom::") and resource["Type"] != (
                "AWS::CloudFormation::CustomResource"
            ):
                continue
            framework_id = _get_att_target(resource["Properties"].get("ServiceToken"))
            framework = self.template["Resources"].get(framework_id or "", {})
            variables = framework.get("Properties", {}).get("Environment", {}).get("Variables", {})
            function_id = _get_att_target(variables.get("USER_ON_EVENT_FUNCTION_ARN"))
            if function_id in functions:
                found.append(
                    CustomResource(
                        logical_id=logical_id,
                        resource_type=resource["Type"],
                        function=functions[function_id],
                        properties=self.resolve(resource["Properties"]),
                    )
                )
        return found

    def outputs(self) -> dict[str, str]:
        return {
            name: str(self.resolve(output["Value"]))
            for name, output in self.template.get("Outputs", {}).items()
        }


def _throttle(stage: Mapping[str, Any], route_key: str) -> Throttle | None:
    """The stage's `RouteSettings` for the route, else its `DefaultRouteSettings`, limit by limit
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-apigatewayv2-stage-routesettings.html)."""
    default = stage.get("DefaultRouteSettings", {})
    specific = stage.get("RouteSettings", {}).get(route_key, {})
    rate = specific.get("ThrottlingRateLimit", default.get("ThrottlingRateLimit"))
    burst = specific.get("ThrottlingBurstLimit", default.get("ThrottlingBurstLimit"))
    if rate is None and burst is None:
        return None
    account_rate, account_burst = ACCOUNT_THROTTLE
    return Throttle(
        rate_limit=float(account_rate if rate is None else rate),
        burst_limit=int(account_burst if burst is None else burst),
    )


def _get_att_target(value: Any) -> str | None:
    """The logical id in `{"Fn::GetAtt": [id, attribute]}`, else None."""
    if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
        return str(value["Fn::GetAtt"][0])
    return None


def create_resources(
    template: dict[str, Any], client: ClientFactory, *, region: str, stack_name: str
) -> LocalResources:
    resources = LocalResources(template, region, stack_name)
    creators: dict[str, Callable[[ClientFactory, LocalResources, str, dict[str, Any]], None]] = {
        "AWS::DynamoDB::Table": _create_table,
        "AWS::S3::Bucket": _create_bucket,
        "AWS::SQS::Queue": _create_queue,
        "AWS::SecretsManager::Secret": _create_secret,
        "AWS::Events::EventBus": _create_event_bus,
        "AWS::Events::Archive": _create_archive,
        "AWS::SNS::Topic": _create_topic,
    }
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            _name_function(resources, logical_id)
        elif resource["Type"] == "AWS::ApiGatewayV2::Api":
            _name_api(resources, logical_id)
    stateful = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in creators
    }
    order = TopologicalSorter(
        {
            logical_id: _references(resource) & stateful.keys()
            for logical_id, resource in stateful.items()
        }
    )
    for logical_id in order.static_order():
        resource = stateful[logical_id]
        properties = resources.resolve(resource.get("Properties", {}))
        creators[resource["Type"]](client, resources, logical_id, properties)
    return resources


def _references(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(_references(item) for item in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for name, item in value.items():
        if name == "Ref" and isinstance(item, str):
            found.add(item)
        elif name == "Fn::GetAtt":
            found.add(item[0] if isinstance(item, list) else item.split(".")[0])
        else:
            found |= _references(item)
    return found


def _physical_name(resources: LocalResources, logical_id: str) -> str:
    return f"{resources.stack_name}-{logical_id}"


def _stack_scoped(resources: LocalResources, name: str) -> str:
    """A name the template fixes (CDK derives it from the stack's name), prefixed with this
    system's stack name unless it already starts with it: moto keeps its state for the life of
    the process, and two systems in one process must not share a resource."""
    return name if name.startswith(resources.stack_name) else f"{resources.stack_name}-{name}"


def _create_table(
    client: ClientFactory, resources: LocalResources, logical_id: str, properties: dict[str, Any]
) -> None:
    name = properties.get("TableName") or _physical_name(resources, logical_id)
    arguments: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if properties.get("GlobalSecondaryIndexes"):
        arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    if properties.get("StreamSpecification"):
        arguments["StreamSpecification"] = {
            "StreamEnabled": True,
            **properties["StreamSpecification"],
        }
    description = client("dynamodb").create_table(**arguments)["TableDescription"]
    if properties.get("TimeToLiveSpecification"):
        client("dynamodb").update_time_to_live(
            TableName=name, TimeToLiveSpecification=properties["TimeToLiveSpecification"]
        )
    resources.refs[logical_id] = name
    resources.attributes[logical_id] = {"Arn": description["TableArn"]}
    if "LatestStreamArn" in description:
        resources.attributes[logical_id]["StreamArn"] = description["LatestStreamArn"]


def _create_bucket(
    client: ClientFactory, resources: LocalResources, logical_id: str, properties: dict[str, Any]
) -> None:
    name = properties.get(CFN_BUCKET_NAME) or _physical_name(resources, logical_id).lower()[:63]
    s3 = client("s3")
    if resources.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": resources.region}
        )
    if properties.get("VersioningConfiguration"):
        s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration=properties["VersioningConfiguration"]
        )
    if properties.get("LifecycleConfiguration"):
        s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [
                    _lifecycle_rule(rule) for rule in properties["LifecycleConfiguration"]["Rules"]
                ]
            },
        )
    resources.refs[logical_id] = name
    resources.attributes[logical_id] = {
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
    }


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule as S3's API spells it (moto keeps rules, never runs them)."""
    expiration = {
        api: rule[cloudformation]
        for cloudformation, api in (
            ("ExpirationInDays", "Days"),
            ("ExpiredObjectDeleteMarker", "ExpiredObjectDeleteMarker"),
        )
        if cloudformation in rule
    }
    translated: dict[str, Any] = {
        "ID": rule["Id"],
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if expiration:
        translated["Expiration"] = expiration
    for name in ("NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"):
        if name in rule:
            translated[name] = rule[name]
    return translated


_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
)


def _create_queue(
    client: ClientFactory, resources: LocalResources, logical_id: str, properties: dict[str, Any]
) -> None:
    name = properties.get("QueueName") or _physical_name(resources, logical_id)
    attributes = {key: str(properties[key]) for key in _QUEUE_ATTRIBUTES if key in properties}
    if "RedrivePolicy" in properties:
        attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    resources.refs[logical_id] = url
    resources.attributes[logical_id] = {"Arn": arn, "QueueName": name, "QueueUrl": url}


def _create_secret(
    client: ClientFactory, resources: LocalResources, logical_id: str, properties: dict[str, Any]
) -> None:
    secrets = client("secretsmanager")
    name = properties.get("Name") or _physical_name(resources, logical_id)
    value = properties.get("SecretString")
    if value is None:
        value = secrets.get_random_password(
            **_password_rules(properties.get("GenerateSecretString", {}))
        )["RandomPassword"]
    arn = secrets.create_secret(Name=name, SecretString=value)["ARN"]
    resources.refs[logical_id] = arn
    resources.attributes[logical_id] = {"Arn": arn}


def _create_event_bus(
    client: ClientFactory, resources: LocalResources, logical_id: str, properties: dict[str, Any]
) -> None:
    name = _stack_scoped(resources, properties.get("Name") or logical_id)
    arn = client("events").create_event_bus(Name=name)["EventBusArn"]
    resources.refs[logical_id] = name
    resources.attributes[logical_id] = {"Arn": arn, "Name": name}


ARCHIVE_NAME_LENGTH = 48


def _create_archive(
    client: ClientFactory, resources: LocalResources, logical_id: str, properties: dict[str, Any]
) -> None:
    name = properties.get("ArchiveName") or _physical_name(resources, logical_id)
    name = name[-ARCHIVE_NAME_LENGTH:]
    arguments: dict[str, Any] = {"ArchiveName": name, "EventSourceArn": properties["SourceArn"]}
    if "EventPattern" in properties:
        arguments["EventPattern"] = json.dumps(properties["EventPattern"])
    if "RetentionDays" in properties:
        arguments["RetentionDays"] = int(properties["RetentionDays"])
    arn = client("events").create_archive(**arguments)["ArchiveArn"]
    resources.refs[logical_id] = name
    resources.attributes[logical_id] = {"Arn": arn}


def _create_topic(
    client: ClientFactory, resources: LocalResources, logical_id: str, properties: dict[str, Any]
) -> None:
    name = properties.get("TopicName") or _physical_name(resources, logical_id)
    arn = client("sns").create_topic(Name=name)["TopicArn"]
    resources.refs[logical_id] = arn
    resources.attributes[logical_id] = {"TopicArn": arn, "TopicName": name}


def _name_function(resources: LocalResources, logical_id: str) -> None:
    """Functions are not deployed to moto; the local system calls their handlers in-process."""
    name = _physical_name(resources, logical_id)
    resources.refs[logical_id] = name
    resources.attributes[logical_id] = {
        "Arn": f"arn:aws:lambda:{resources.region}:{ACCOUNT_ID}:function:{name}"
    }


def _name_api(resources: LocalResources, logical_id: str) -> None:
    """HTTP APIs are served by the local gateway; the id only has to be stable."""
    resources.refs[logical_id] = logical_id.lower()[:10]
    resources.attributes[logical_id] = {"ApiEndpoint": f"https://{logical_id.lower()[:10]}.local"}


def _password_rules(rules: Mapping[str, Any]) -> dict[str, Any]:
    allowed = {
        "PasswordLength", "ExcludeCharacters", "ExcludeNumbers", "ExcludePunctuation",
        "ExcludeUppercase", "ExcludeLowercase", "IncludeSpace", "RequireEachIncludedType",
    }  # fmt: skip
    return {name: value for name, value in rules.items() if name in allowed}
