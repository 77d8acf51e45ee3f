"""Keeping the stack's CallFire v2 webhooks at deploy time: a custom resource whose function
creates or updates them on Create and Update and deletes them on Delete, behind the CDK Provider
framework. Its properties name the credentials and the webhook secret by ARN, never by value."""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from functions.names import WEBHOOK_SUBSCRIPTIONS, Handler, WebhookResource
from infra.constructs.python_function import LOG_RETENTION, PythonFunction, log_writing_role
from infra.constructs.webhooks import WebhookApi
from infra.customer_key import DECRYPT, allow_key_use
from infra.security import acknowledge, logical_id

TIMEOUT = Duration.minutes(5)
"""Enough for finding and writing seven webhooks with retries; the function keeps a margin to
answer with its own message before Lambda would cut it off."""


def secret_policy_arn(secret: secretsmanager.ISecret) -> str:
    """The ARN to grant: a secret imported by name has no full ARN, so match its random suffix."""
    return secret.secret_full_arn or f"{secret.secret_arn}-??????"


class WebhookRegistration(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        webhooks: WebhookApi,
        credentials: secretsmanager.ISecret,
        base_url: str,
        tracing: bool,
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = PythonFunction(
            self,
            "Handler",
            code=code,
            handler=Handler.WEBHOOK_REGISTRATION,
            description="Creates, updates and deletes the stack's CallFire v2 webhooks.",
            environment={},
            timeout=TIMEOUT,
            tracing=tracing,
        )
        readable = [webhooks.secret.secret_arn, secret_policy_arn(credentials)]
        self.handler.role.add_to_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=readable)
        )
        allow_key_use(
            self.handler.role,
            key,
            service="secretsmanager",
            actions=[DECRYPT],
            secret_arns=readable,
        )
        self.provider_logs = logs.LogGroup(
            self, "ProviderLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.provider_role = log_writing_role(
            self,
            "ProviderRole",
            self.provider_logs,
            description="Runs the CDK Provider framework that invokes the webhook registration.",
        )
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.handler.function,
            framework_on_event_role=self.provider_role,
            log_group=self.provider_logs,
        )
        self.webhooks = CustomResource(
            self,
            "Webhooks",
            service_token=self.provider.service_token,
            resource_type=WebhookResource.RESOURCE_TYPE,
            properties={
                WebhookResource.WEBHOOK_URL: webhooks.webhook_url,
                WebhookResource.CALLFIRE_V2_BASE_URL: base_url,
                WebhookResource.CREDENTIALS_SECRET_ARN: credentials.secret_arn,
                WebhookResource.WEBHOOK_SECRET_ARN: webhooks.secret.secret_arn,
                WebhookResource.NAME_PREFIX: Stack.of(self).stack_name,
            },
        )
        # CallFire may deliver as soon as a webhook exists: the route, function and grants first.
        self.webhooks.node.add_dependency(webhooks)
        self.summary = (
            f"Automatic on deploy: webhooks {Stack.of(self).stack_name}-<resource> for "
            f"{', '.join(WEBHOOK_SUBSCRIPTIONS)} at {base_url}, with the credentials in the "
            f"secret {credentials.secret_name}; deleted with the stack."
        )
        self._acknowledge()

    def _acknowledge(self) -> None:
        acknowledge(
            self.handler.function,
            "Serverless-LambdaDLQ",
            "The Provider framework invokes this function synchronously and reports its error to "
            "CloudFormation, which fails the deployment: there is no event to dead-letter.",
        )
        acknowledge(
            self.provider_role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(self.handler.function)}.Arn>:*]",
            "The CDK Provider framework grants invoking the webhook registration function and "
            "its versions (`:*`); that one function is all the framework's role may invoke.",
        )
        framework = self.provider.node.find_child("framework-onEvent")
        for rule_id, reason in (
            (
                "Serverless-LambdaDLQ",
                "CloudFormation invokes the Provider framework and waits for its answer; a "
                "failure fails the deployment, so there is no event to dead-letter.",
            ),
            (
                "Serverless-LambdaTracing",
                "The Provider framework only relays CloudFormation's request to the webhook "
                "registration function; tracing it would show nothing the logs do not.",
            ),
            (
                "Serverless-LambdaDefaultMemorySize",
                "The Provider framework's memory is set by aws-cdk-lib; it relays one small "
                "request per deployment and needs no tuning.",
            ),
        ):
            acknowledge(framework, rule_id, reason)
