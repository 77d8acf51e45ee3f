"""Subscribing the postback URL with CallFire at deploy time: a custom resource whose function POSTs
CallFire's subscription form on Create and Update, behind the CDK Provider framework. Its
properties name the API key and the token by secret ARN, never by value; the function reads them.
Without an API key secret there is no custom resource, and `manual_subscribe_command` says how to
subscribe by hand."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, CustomResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from functions.names import (
    CallfireApi,
    Env,
    Handler,
    Route,
    StatusObject,
    SubscriptionResource,
)
from functions.registration.subscriptions import endpoints_for
from infra.constructs.postbacks import PostbackApi
from infra.constructs.provider import deploy_time_provider
from infra.constructs.python_function import PythonFunction
from infra.customer_key import DECRYPT, GENERATE_DATA_KEY, allow_key_use
from infra.secrets import secret_policy_arn

TIMEOUT = Duration.minutes(5)
"""Enough for a retried POST to every endpoint of many campaigns; the function keeps a margin
to fail with its own message before Lambda would cut it off."""
SERVICE_TIMEOUT = Duration.minutes(10)
"""How long CloudFormation waits for the custom resource's answer: the function's timeout and
the Provider framework's own work, then the deployment fails, instead of after the default hour
(AWS::CloudFormation::CustomResource, ServiceTimeout: 1 to 3600 seconds, default 3600)."""


class CallfireRegistration(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        postbacks: PostbackApi,
        api_key: secretsmanager.ISecret,
        base_url: str,
        campaign_ids: Sequence[str],
        tracing: bool,
        status_bucket: s3.IBucket,
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = PythonFunction(
            self,
            "Handler",
            code=code,
            handler=Handler.REGISTRATION,
            description="Subscribes the postback URL with CallFire when the stack deploys.",
            environment={Env.BUCKET: status_bucket.bucket_name},
            timeout=TIMEOUT,
            tracing=tracing,
        )
        secrets = [postbacks.token_secret.secret_arn, secret_policy_arn(api_key)]
        self.handler.role.add_to_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=secrets)
        )
        allow_key_use(
            self.handler.role,
            key,
            service="secretsmanager",
            actions=[DECRYPT],
            secret_arns=secrets,
        )
        # Its last result, for `make status`: that one object, written and nothing else.
        self.handler.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[status_bucket.arn_for_objects(StatusObject.REGISTRATION)],
            )
        )
        allow_key_use(self.handler.role, key, service="s3", actions=[GENERATE_DATA_KEY])
        self.provider = deploy_time_provider(self, self.handler, runs="registration function")
        self.subscription = CustomResource(
            self,
            "Subscription",
            service_token=self.provider.service_token,
            resource_type=SubscriptionResource.RESOURCE_TYPE,
            service_timeout=SERVICE_TIMEOUT,
            properties={
                SubscriptionResource.POSTBACK_URL: postbacks.postback_url,
                SubscriptionResource.CALLFIRE_BASE_URL: base_url,
                SubscriptionResource.CAMPAIGN_IDS: list(campaign_ids),
                SubscriptionResource.API_KEY_SECRET_ARN: api_key.secret_arn,
                SubscriptionResource.TOKEN_SECRET_ARN: postbacks.token_secret.secret_arn,
            },
        )
        # CallFire may post as soon as it is subscribed: the route, function and grants first.
        self.subscription.node.add_dependency(postbacks)
        self.summary = (
            f"Automatic on deploy: {_scope(campaign_ids)} at {base_url}, "
            f"with the API key in the secret {api_key.secret_name}."
        )


def _scope(campaign_ids: Sequence[str]) -> str:
    kinds = f"{CallfireApi.CALL_FINISH} and {CallfireApi.CAMPAIGN_FINISH}"
    if not campaign_ids:
        return f"{kinds} reports account-wide"
    return f"{kinds} reports of campaigns {', '.join(campaign_ids)}"


def manual_subscribe_command(
    *, postback_url: str, token_secret_arn: str, base_url: str, campaign_ids: Sequence[str]
) -> str:
    """One shell line (bash or zsh) that reads the token and subscribes every endpoint. The API
    key is a placeholder: the shell refuses to run it until CALLFIRE_API_KEY is set."""
    prefix = f"{CallfireApi.REPORT_CALLBACKS}/"
    endpoints = " ".join(
        endpoint.path.removeprefix(prefix) for endpoint in endpoints_for(campaign_ids)
    )
    return (
        f"TOKEN=$(aws secretsmanager get-secret-value --region {Aws.REGION} "
        f"--secret-id {token_secret_arn} --query SecretString --output text) && "
        f"for ENDPOINT in {endpoints}; do curl -sS -X POST "
        f'"{base_url}{prefix}$ENDPOINT" '
        f'--data-urlencode "{CallfireApi.API_KEY_FIELD}='
        '${CALLFIRE_API_KEY:?set CALLFIRE_API_KEY to your CallFire API key}" '
        f'--data-urlencode "{CallfireApi.POST_URL_FIELD}={postback_url}?'
        f'{Route.TOKEN_PARAMETER}=$TOKEN"; echo; done'
    )
