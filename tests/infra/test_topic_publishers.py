"""Every SNS topic in the template lets each of its publishers publish, by AWS's rules.

moto enforces no topic policy, so a topic whose policy shuts CloudWatch out looks fine in every
other test while, on AWS, each alarm's history says "not authorized to perform: SNS:Publish" and
nobody is told (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
A topic policy replaces SNS's default one, so CloudWatch needs an explicit Allow.

The publishers are found in the template, not listed here: every alarm action, every role whose
identity policy grants sns:Publish on the topic, every function that is handed the topic's ARN,
every EventBridge rule target and S3 notification. Any other reference to a topic fails the test
until the check is taught who publishes through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.stack import STACK_NAME
from tests.infra.deployed import ACCOUNT, Deployed, strings, walk
from tests.infra.iam_policy import Principal, Request, Statement, as_list, evaluate

PUBLISH = "sns:Publish"
OTHER_ACCOUNT = "444455556666"
ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")


@dataclass(frozen=True)
class Publisher:
    who: str
    request: Request
    identity_policy: list[Statement] = field(default_factory=list)


@pytest.fixture(scope="module")
def deployed(template: dict[str, Any]) -> Deployed:
    return Deployed(template, STACK_NAME)


def topics(deployed: Deployed) -> dict[str, str]:
    """Each topic's logical id and ARN."""
    return {
        logical_id: deployed.arn(logical_id) for logical_id in deployed.resources("AWS::SNS::Topic")
    }


def topic_policy(deployed: Deployed, topic_arn: str) -> list[Statement]:
    """The one resource policy SNS keeps for the topic (a second TopicPolicy on the same topic
    would silently replace the first on AWS, so there may be only one)."""
    policies = [
        properties["PolicyDocument"]
        for properties in deployed.resources("AWS::SNS::TopicPolicy").values()
        if topic_arn in deployed.resolve(properties["Topics"])
    ]
    assert len(policies) <= 1, f"{len(policies)} topic policies for {topic_arn}: the last one wins"
    return as_list(deployed.resolve(policies[0])["Statement"]) if policies else []


def identity_policy(deployed: Deployed, role_id: str) -> list[Statement]:
    """Every statement attached to the role: inline policies and AWS::IAM::Policy resources."""
    ref = {"Ref": role_id}
    found = [
        statement
        for inline in deployed.resources("AWS::IAM::Role")[role_id].get("Policies", [])
        for statement in as_list(inline["PolicyDocument"]["Statement"])
    ]
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for properties in deployed.resources(kind).values():
            if ref in properties.get("Roles", []):
                found += as_list(properties["PolicyDocument"]["Statement"])
    return as_list(deployed.resolve(found))


def role_request(deployed: Deployed, role_id: str, topic_arn: str) -> Request:
    role_arn = deployed.arn(role_id)
    return Request(
        principal=Principal(arn=role_arn, account=deployed.account),
        action=PUBLISH,
        resource=topic_arn,
        context={
            "aws:SecureTransport": True,  # the SDKs call SNS over HTTPS
            "aws:PrincipalArn": role_arn,
            "aws:PrincipalAccount": deployed.account,
        },
    )


def service_request(service: str, source_arn: str, topic_arn: str, account: str) -> Request:
    """A service publishing on behalf of one of the account's resources: the request context
    carries the resource as aws:SourceArn and its account as aws:SourceAccount (IAM global
    condition keys, reference_policies_condition-keys.html), over TLS."""
    return Request(
        principal=Principal(service=service),
        action=PUBLISH,
        resource=topic_arn,
        context={
            "aws:SourceArn": source_arn,
            "aws:SourceAccount": account,
            "aws:SecureTransport": True,
        },
    )


def alarm_publishers(deployed: Deployed, topic_arn: str) -> Iterator[Publisher]:
    for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
        for logical_id, properties in deployed.resources(kind).items():
            actions = [
                a for name in ALARM_ACTIONS for a in deployed.resolve(properties.get(name, []))
            ]
            if topic_arn in actions:
                yield Publisher(
                    f"alarm {logical_id}",
                    service_request(
                        "cloudwatch.amazonaws.com", deployed.arn(logical_id), topic_arn, ACCOUNT
                    ),
                )


def grants_publish(statements: list[Statement], topic_arn: str) -> bool:
    return any(
        statement["Effect"] == "Allow"
        and any(a.lower() in {"sns:publish", "sns:*", "*"} for a in as_list(statement["Action"]))
        and any(r in {topic_arn, "*"} for r in as_list(statement.get("Resource", [])))
        for statement in statements
    )


def role_publishers(deployed: Deployed, topic_arn: str) -> Iterator[Publisher]:
    """Roles granted sns:Publish on the topic, and the roles of functions handed its ARN."""
    handed = {
        deployed.resolve(properties["Role"]).split("/")[-1]
        for properties in deployed.resources("AWS::Lambda::Function").values()
        if topic_arn in strings(deployed.resolve(properties))
    }
    for role_id in deployed.resources("AWS::IAM::Role"):
        statements = identity_policy(deployed, role_id)
        if grants_publish(statements, topic_arn) or deployed.physical_name(role_id) in handed:
            yield Publisher(
                f"role {role_id}", role_request(deployed, role_id, topic_arn), statements
            )


def service_publishers(deployed: Deployed, topic_arn: str) -> Iterator[Publisher]:
    for logical_id, properties in deployed.resources("AWS::Events::Rule").items():
        for target in deployed.resolve(properties.get("Targets", [])):
            if target.get("Arn") == topic_arn:
                yield Publisher(
                    f"EventBridge rule {logical_id}",
                    service_request(
                        "events.amazonaws.com", deployed.arn(logical_id), topic_arn, ACCOUNT
                    ),
                )
    for logical_id, properties in deployed.resources("AWS::S3::Bucket").items():
        notifications = deployed.resolve(properties.get("NotificationConfiguration", {}))
        for configuration in notifications.get("TopicConfigurations", []):
            if configuration.get("Topic") == topic_arn:
                yield Publisher(
                    f"S3 bucket {logical_id}",
                    service_request(
                        "s3.amazonaws.com", deployed.arn(logical_id), topic_arn, ACCOUNT
                    ),
                )


def publishers(deployed: Deployed, topic_arn: str) -> list[Publisher]:
    return [
        *alarm_publishers(deployed, topic_arn),
        *role_publishers(deployed, topic_arn),
        *service_publishers(deployed, topic_arn),
    ]


UNDERSTOOD = {
    "AWS::SNS::Topic",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Function",
    "AWS::Events::Rule",
    "AWS::S3::Bucket",
}
"""Resource types whose references to a topic the publishers above account for."""


def test_every_publisher_of_every_topic_is_allowed_to_publish(deployed: Deployed) -> None:
    refused = []
    for topic_id, topic_arn in topics(deployed).items():
        policy = topic_policy(deployed, topic_arn)
        found = publishers(deployed, topic_arn)
        assert found, f"{topic_id}: nothing publishes to it"
        for publisher in found:
            decision = evaluate(
                publisher.request,
                resource_policy=policy,
                identity_policy=publisher.identity_policy,
            )
            if not decision.allowed:
                refused.append(f"{topic_id}: {publisher.who} may not publish ({decision.why})")

    assert refused == []


def test_every_reference_to_a_topic_is_understood(deployed: Deployed) -> None:
    arns = set(topics(deployed).values())
    unknown = [
        f"{logical_id} ({resource['Type']}) at {path}"
        for logical_id, resource in deployed.template["Resources"].items()
        if resource["Type"] not in UNDERSTOOD
        for path, value in walk(deployed.resolve(resource.get("Properties", {})))
        if isinstance(value, str) and value in arns
    ]

    assert unknown == [], "teach test_topic_publishers who publishes through these"


def test_the_alarm_topic_refuses_what_aws_would_refuse(deployed: Deployed) -> None:
    """The check can fail: the same policy refuses CloudWatch without TLS, another account's
    alarms, a service that is not CloudWatch, and anyone else."""
    for topic_arn in topics(deployed).values():
        policy = topic_policy(deployed, topic_arn)
        alarm = f"arn:aws:cloudwatch:{deployed.region}:{ACCOUNT}:alarm:AnyAlarm"
        elsewhere = f"arn:aws:cloudwatch:{deployed.region}:{OTHER_ACCOUNT}:alarm:AnyAlarm"
        plain = service_request("cloudwatch.amazonaws.com", alarm, topic_arn, ACCOUNT)
        refused = {
            "without TLS": Request(
                plain.principal,
                PUBLISH,
                topic_arn,
                {**plain.context, "aws:SecureTransport": False},
            ),
            "another account's alarm": service_request(
                "cloudwatch.amazonaws.com", elsewhere, topic_arn, OTHER_ACCOUNT
            ),
            "another service": service_request("events.amazonaws.com", alarm, topic_arn, ACCOUNT),
            "a stranger": Request(
                Principal(arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/stranger"),
                PUBLISH,
                topic_arn,
                {"aws:SecureTransport": True},
            ),
        }
        for what, request in refused.items():
            assert not evaluate(request, resource_policy=policy).allowed, what
