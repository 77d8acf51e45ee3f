"""A Python Lambda function as every function here is built: Python 3.13 on arm64, its own log
group with a retention, and a role that starts with nothing but writing to that log group."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.names import METRICS_NAMESPACE, SERVICE_NAME
from infra.security import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
DEFAULT_TIMEOUT = Duration.seconds(10)
LOG_LEVEL_VARIABLE = "POWERTOOLS_LOG_LEVEL"
DEFAULT_LOG_LEVEL = "INFO"


def log_writing_role(
    scope: Construct, construct_id: str, log_group: logs.ILogGroup, *, description: str
) -> iam.Role:
    """A Lambda role that may write to `log_group` and nothing else (no managed policy)."""
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )
    )
    return role


class PythonFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        memory_size: int = 256,
        timeout: Duration = DEFAULT_TIMEOUT,
        tracing: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = log_writing_role(
            self, "Role", self.log_group, description=f"Runs {construct_id}: {description}"
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=handler,
            description=description,
            role=self.role,
            log_group=self.log_group,
            memory_size=memory_size,
            timeout=timeout,
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                LOG_LEVEL_VARIABLE: DEFAULT_LOG_LEVEL,
                **environment,
            },
        )
        for rule_id in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
            acknowledge(
                self.function,
                rule_id,
                "The product targets Python 3.13 on arm64 (docs/contract.md); the code is "
                "tested on 3.11 and 3.13 and moves to a newer runtime deliberately.",
            )
        if tracing:
            acknowledge(
                self.role,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords take no resource ARN; CDK grants "
                "exactly those two actions when tracing is on.",
            )
        else:
            acknowledge(
                self.function,
                "Serverless-LambdaTracing",
                "X-Ray tracing is opt-in (context `tracing=true`): it adds cost per report, and "
                "the structured logs and metrics already carry each request's id and outcome.",
            )

    def log_at(self, level: str) -> None:
        """The level the function's own log lines start at (`logLevel` in the configuration)."""
        self.function.add_environment(LOG_LEVEL_VARIABLE, level)
