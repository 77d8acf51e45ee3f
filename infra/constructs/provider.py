"""The CDK Provider framework that runs a deploy-time function for a custom resource, with its
own log group and a role that may only write there and invoke that function."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.constructs.python_function import LOG_RETENTION, PythonFunction, log_writing_role
from infra.security import acknowledge, logical_id


def deploy_time_provider(scope: Construct, handler: PythonFunction, *, runs: str) -> cr.Provider:
    """A Provider in `scope` for `handler` (`runs` names it in descriptions and reasons), with
    the cdk-nag findings its framework raises acknowledged."""
    provider_logs = logs.LogGroup(
        scope, "ProviderLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
    )
    role = log_writing_role(
        scope,
        "ProviderRole",
        provider_logs,
        description=f"Runs the CDK Provider framework that invokes the {runs}.",
    )
    provider = cr.Provider(
        scope,
        "Provider",
        on_event_handler=handler.function,
        framework_on_event_role=role,
        log_group=provider_logs,
    )
    acknowledge(
        handler.function,
        "Serverless-LambdaDLQ",
        "The Provider framework invokes this function synchronously and reports its error to "
        "CloudFormation, which fails the deployment: there is no event to dead-letter.",
    )
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::<{logical_id(handler.function)}.Arn>:*]",
        f"The CDK Provider framework grants invoking the {runs} and its versions (`:*`); that "
        "one function is all the framework's role may invoke.",
    )
    framework = provider.node.find_child("framework-onEvent")
    for rule_id, reason in (
        (
            "Serverless-LambdaDLQ",
            "CloudFormation invokes the Provider framework and waits for its answer; a failure "
            "fails the deployment, so there is no event to dead-letter.",
        ),
        (
            "Serverless-LambdaTracing",
            f"The Provider framework only relays CloudFormation's request to the {runs} once "
            "per deployment; tracing it would show nothing the logs do not.",
        ),
        (
            "Serverless-LambdaDefaultMemorySize",
            "The Provider framework's memory is set by aws-cdk-lib; it relays one small request "
            "per deployment and needs no tuning.",
        ),
    ):
        acknowledge(framework, rule_id, reason)
    return provider
