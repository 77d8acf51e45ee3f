"""The hourly check of the stack's CallFire webhooks: a scheduled function that publishes how many
are missing, disabled or wrong, an alarm on that metric, and (with `repairWebhooks`) repairs."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from functions.names import (
    METRICS_NAMESPACE,
    SERVICE_NAME,
    Dimension,
    Env,
    Handler,
    Metric,
)
from infra.constructs.python_function import PythonFunction
from infra.constructs.webhooks import WebhookApi
from infra.customer_key import DECRYPT, allow_key_use
from infra.secrets import secret_policy_arn
from infra.security import acknowledge

SCHEDULE = Duration.hours(1)
TIMEOUT = Duration.minutes(2)


class WebhookHealth(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        webhooks: WebhookApi,
        credentials: secretsmanager.ISecret,
        base_url: str,
        repair: bool,
        tracing: bool,
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        environment = {
            Env.WEBHOOK_URL: webhooks.webhook_url,
            Env.WEBHOOK_NAME_PREFIX: Stack.of(self).stack_name,
            Env.CALLFIRE_V2_BASE_URL: base_url,
            Env.CALLFIRE_API_CREDENTIALS_SECRET_ARN: credentials.secret_arn,
            Env.REPAIR_WEBHOOKS: "true" if repair else "false",
        }
        if repair:
            environment[Env.WEBHOOK_SECRET_ARN] = webhooks.secret.secret_arn
        self.handler = PythonFunction(
            self,
            "Handler",
            code=code,
            handler=Handler.WEBHOOK_HEALTH,
            description="Checks every hour that the stack's CallFire webhooks exist and are enabled"
            + (", and repairs them." if repair else "."),
            environment=environment,
            timeout=TIMEOUT,
            tracing=tracing,
        )
        readable = [secret_policy_arn(credentials)]
        if repair:
            readable.append(webhooks.secret.secret_arn)
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
        self.schedule = events.Rule(
            self,
            "Schedule",
            description="Checks the stack's CallFire webhooks every hour.",
            schedule=events.Schedule.rate(SCHEDULE),
            targets=[targets.LambdaFunction(self.handler.function, retry_attempts=0)],
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "UnhealthyAlarm",
            alarm_description=(
                "At least one of the stack's CallFire webhooks is missing, disabled or points "
                "elsewhere: CallFire is not delivering those reports. The check function's log "
                "says which; docs/configuration.md (v2 webhooks) says how to repair them."
            ),
            metric=cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=Metric.WEBHOOKS_UNHEALTHY,
                dimensions_map={Dimension.SERVICE: SERVICE_NAME},
                statistic="Maximum",
                period=SCHEDULE,
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        """Its actions come from whoever notifies people (the stack's Monitoring topic)."""
        acknowledge(
            self.schedule,
            "Serverless-EventBusDLQ",
            "The schedule's only event is 'check now'; a delivery EventBridge could not make is "
            "made again by the next hour's schedule, and a missed run leaves the alarm's metric "
            "missing, not wrong. A dead-letter queue would hold nothing worth replaying.",
        )
        acknowledge(
            self.handler.function,
            "Serverless-LambdaDLQ",
            "A scheduled check with no retries: the next hour's run is the retry, and a run that "
            "fails raises the function's Errors alarm; there is nothing to keep from a failed run.",
        )
