"""`POST /postbacks`: the token secret, the postback function and the HTTP API in front of it."""

from __future__ import annotations

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from functions.names import Env, Handler, Prefix, Route
from infra.constructs.python_function import LOG_RETENTION, PythonFunction
from infra.constructs.storage import ReportStorage
from infra.naming import physical_name
from infra.security import acknowledge

TOKEN_LENGTH = 48
VENDED_LOGS_PREFIX = "/aws/vendedlogs/"
TIMEOUT = Duration.seconds(20)
"""Covers a request's worst case when AWS is slow but answers (functions/wiring/postback.py,
worst_case_seconds; tests/infra/test_aws_limits.py checks it), and stays under the HTTP API's
30-second integration timeout, so that the function, not the gateway, answers."""
RECEIVED_PREFIXES = (Prefix.REJECTED, Prefix.UNSTORED, Prefix.RAW, Prefix.ARCHIVE_INDEX)
"""Where the postback function writes: kept bodies, bodies too large for their items, and the
archive index's markers."""

_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
}
"""No path or query string: the token travels in the query string and must never be logged."""


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._log_group = log_group

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return apigw.LogGroupLogDestination(self._log_group)

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return apigw_v1.AccessLogFormat.custom(
            "{"
            + ",".join(f'"{name}":"{value}"' for name, value in _ACCESS_LOG_FIELDS.items())
            + "}"
        )


class PostbackApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        storage: ReportStorage,
        recordings_queue: sqs.IQueue,
        max_body_bytes: int,
        rate_limit: int,
        burst_limit: int,
        tracing: bool,
        report_retention_days: int = 0,
    ) -> None:
        super().__init__(scope, construct_id)
        self.token_secret = secretsmanager.Secret(
            self,
            "TokenSecret",
            description="The token CallFire presents as ?token= on every postback.",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=TOKEN_LENGTH, exclude_punctuation=True, include_space=False
            ),
            encryption_key=storage.key,
        )
        self.handler = PythonFunction(
            self,
            "Handler",
            code=code,
            handler=Handler.POSTBACK,
            description="Checks, reads and stores each CallFire postback once.",
            environment={
                **storage.receiving_environment(
                    recordings_queue=recordings_queue, report_retention_days=report_retention_days
                ),
                Env.TOKEN_SECRET_ARN: self.token_secret.secret_arn,
                Env.MAX_BODY_BYTES: str(max_body_bytes),
            },
            memory_size=256,
            timeout=TIMEOUT,
            tracing=tracing,
        )
        self._grant(storage, recordings_queue)
        self.api = apigw.HttpApi(
            self,
            "Api",
            api_name=physical_name(self, "Postbacks"),
            description="Receives CallFire's report postbacks.",
            create_default_stage=False,
        )
        (self.route,) = self.api.add_routes(
            path=Route.POSTBACKS,
            methods=[apigw.HttpMethod.POST],
            integration=HttpLambdaIntegration(
                "Integration",
                self.handler.function,
                payload_format_version=apigw.PayloadFormatVersion.VERSION_2_0,
            ),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            # API Gateway delivers access logs as vended logs: a name under /aws/vendedlogs/ is
            # covered by one resource-policy statement, not one per log group in a policy of at
            # most 5,120 characters per account (CloudWatch Logs User Guide, "Enabling logging
            # from AWS services").
            log_group_name=f"{VENDED_LOGS_PREFIX}apigateway/{physical_name(self, 'postbacks')}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            access_log_settings=_AccessLogSettings(self.access_logs),
        )
        self.postback_url = f"{self.stage.url}{Route.POSTBACKS.lstrip('/')}"
        self._acknowledge()

    def _grant(self, storage: ReportStorage, recordings_queue: sqs.IQueue) -> None:
        storage.grant_receiving(
            self.handler.role,
            secret=self.token_secret,
            recordings_queue=recordings_queue,
            prefixes=RECEIVED_PREFIXES,
        )

    def _acknowledge(self) -> None:
        acknowledge(
            self.token_secret,
            "AwsSolutions-SMG4",
            "The token is part of the URL registered with CallFire, which has no way to accept "
            "a new one on a schedule; rotate it deliberately, as docs/operations.md shows.",
        )
        acknowledge(
            self.route,
            "AwsSolutions-APIG4",
            "CallFire's legacy postbacks cannot carry credentials in headers. Every request must "
            "present the secret token in its query string, which the function compares in constant "
            "time before it touches storage; the stage is throttled.",
        )
        acknowledge(
            self.handler.function,
            "Serverless-LambdaDLQ",
            "API Gateway invokes this function synchronously: a failure is answered to CallFire "
            "(and the body archived in S3), so there is no asynchronous event to dead-letter.",
        )
