"""`POST /webhooks`: CallFire's v2 webhook deliveries, on the postbacks' HTTP API, to a function of
their own, with the secret CallFire signs them with.

A second function rather than a second route to the postback function: a delivery may hold many
events, so it runs under a longer timeout (up to just under API Gateway's 30 seconds) without
lengthening the legacy one; its role alone may read the webhook secret, publish to the alarm topic
(LowBalance) and write `events/`, and the postback role stays exactly as it was; its errors,
throttles and duration have their own alarms and graphs. Both share one code asset and every rule
behind the handler (reading into the same model, the store-once rule, the archive, the queue), so
the cost is a second pool of warm instances (a cold start the first time each route is used) and
one more log group; requests are priced the same.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from functions.names import Env, Handler, Prefix, Route
from infra.constructs.postbacks import TOKEN_LENGTH, PostbackApi
from infra.constructs.python_function import PythonFunction
from infra.constructs.storage import ReportStorage
from infra.customer_key import DECRYPT, GENERATE_DATA_KEY, allow_key_use
from infra.security import acknowledge

TIMEOUT = Duration.seconds(25)
"""API Gateway gives an integration 30 seconds; the function covers a one-event delivery when AWS
is slow (functions.wiring.webhooks.worst_case_seconds; tests/infra/test_aws_limits.py checks it),
and stops storing events early enough to archive the body in unstored/ and answer 503 before its
own timeout (sent again: the rest)."""
WRITTEN_PREFIXES = (
    Prefix.REJECTED,
    Prefix.UNSTORED,
    Prefix.EVENTS,
    Prefix.RAW,
    Prefix.ARCHIVE_INDEX,
)
"""Kept bodies, other resource types' events, events too large for their items (`raw/`) and the
archive index's markers."""


class WebhookApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        storage: ReportStorage,
        postbacks: PostbackApi,
        recordings_queue: sqs.IQueue,
        max_body_bytes: int,
        tracing: bool,
        report_retention_days: int = 0,
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="The secret CallFire signs each v2 webhook delivery with "
            "(X-CallFire-Signature).",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=TOKEN_LENGTH, exclude_punctuation=True, include_space=False
            ),
            encryption_key=storage.key,
        )
        self.handler = PythonFunction(
            self,
            "Handler",
            code=code,
            handler=Handler.WEBHOOKS,
            description="Checks, reads and stores each CallFire v2 webhook delivery.",
            environment={
                **storage.receiving_environment(
                    recordings_queue=recordings_queue, report_retention_days=report_retention_days
                ),
                Env.WEBHOOK_SECRET_ARN: self.secret.secret_arn,
                Env.MAX_BODY_BYTES: str(max_body_bytes),
            },
            memory_size=256,
            timeout=TIMEOUT,
            tracing=tracing,
        )
        self._grant(storage, recordings_queue)
        (self.route,) = postbacks.api.add_routes(
            path=Route.WEBHOOKS,
            methods=[apigw.HttpMethod.POST],
            integration=HttpLambdaIntegration(
                "Integration",
                self.handler.function,
                payload_format_version=apigw.PayloadFormatVersion.VERSION_2_0,
            ),
        )
        self.webhook_url = f"{postbacks.stage.url}{Route.WEBHOOKS.lstrip('/')}"
        self._acknowledge()

    def notify_through(self, topic: sns.ITopic, key: kms.IKey | None) -> None:
        """LowBalance events are told on `topic` (the alarm topic people watch). A publisher to a
        topic encrypted with a customer key needs `kms:GenerateDataKey*` and `kms:Decrypt` of it
        (SNS Developer Guide, "Data encryption": "Enable compatibility between event sources
        from AWS services and encrypted topics", and the publisher's permissions)."""
        self.handler.function.add_environment(Env.ALARM_TOPIC_ARN, topic.topic_arn)
        self.handler.role.add_to_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn])
        )
        allow_key_use(self.handler.role, key, service="sns", actions=[GENERATE_DATA_KEY, DECRYPT])

    def _grant(self, storage: ReportStorage, recordings_queue: sqs.IQueue) -> None:
        storage.grant_receiving(
            self.handler.role,
            secret=self.secret,
            recordings_queue=recordings_queue,
            prefixes=WRITTEN_PREFIXES,
        )

    def _acknowledge(self) -> None:
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "CallFire signs with the secret its webhooks hold; a new value takes effect once "
            "the webhooks are updated with it, so it is rotated deliberately "
            "(docs/configuration.md).",
        )
        acknowledge(
            self.route,
            "AwsSolutions-APIG4",
            "CallFire's webhooks cannot present credentials API Gateway checks. Every delivery "
            "carries an HMAC-SHA1 signature of its body (X-CallFire-Signature) that the function "
            "verifies in constant time before it reads or keeps anything; the stage is throttled.",
        )
        acknowledge(
            self.handler.function,
            "Serverless-LambdaDLQ",
            "API Gateway invokes this function synchronously: a failure is answered to CallFire "
            "(and the delivery kept in S3), so there is no asynchronous event to dead-letter.",
        )
