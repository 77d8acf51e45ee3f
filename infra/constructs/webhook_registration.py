"""Keeping the stack's CallFire v2 webhooks at deploy time: a custom resource whose function
creates or updates them on Create and Update and deletes them on Delete, behind the CDK Provider
framework. Its properties name the credentials and the webhook secret by ARN, never by value."""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from functions.names import WEBHOOK_SUBSCRIPTIONS, Handler, WebhookResource
from infra.constructs.provider import deploy_time_provider
from infra.constructs.python_function import PythonFunction
from infra.constructs.webhooks import WebhookApi
from infra.customer_key import DECRYPT, allow_key_use
from infra.secrets import secret_policy_arn

TIMEOUT = Duration.minutes(5)
"""Enough for finding and writing seven webhooks with retries; the function keeps a margin to
answer with its own message before Lambda would cut it off."""


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
        self.provider = deploy_time_provider(
            self, self.handler, runs="webhook registration function"
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
