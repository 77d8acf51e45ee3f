"""The unstored watch: a small function, run every hour, that publishes how long the oldest body
in `unstored/` has waited for replay (`OldestUnstoredBodyAge`), for the `UnstoredBodiesWaiting`
alarm. It lists the prefix and reads tags; it reads no body."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions.names import Env, Handler, Prefix
from infra.constructs.python_function import PythonFunction
from infra.constructs.storage import ReportStorage
from infra.security import acknowledge, logical_id

EVERY = Duration.hours(1)


class UnstoredWatch(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        storage: ReportStorage,
        tracing: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self._bucket = storage.bucket
        self.handler = PythonFunction(
            self,
            "Handler",
            code=code,
            handler=Handler.UNSTORED_WATCH,
            description="Publishes how long the oldest body in unstored/ has waited for replay.",
            environment={Env.BUCKET: storage.bucket.bucket_name},
            timeout=Duration.minutes(1),
            tracing=tracing,
        )
        role = self.handler.role
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[storage.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{Prefix.UNSTORED}*"]}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObjectTagging"],
                resources=[storage.bucket.arn_for_objects(f"{Prefix.UNSTORED}*")],
            )
        )
        self.schedule = events.Rule(
            self,
            "Schedule",
            description="Runs the unstored watch every hour.",
            schedule=events.Schedule.rate(EVERY),
            targets=[targets.LambdaFunction(self.handler.function, retry_attempts=2)],
        )
        self._acknowledge()

    def _acknowledge(self) -> None:
        acknowledge(
            self.handler.role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(self._bucket)}.Arn>/{Prefix.UNSTORED}*]",
            "Bodies waiting for replay are named by day and request id at run time; the watch may "
            "only read their tags, under the unstored/ prefix.",
        )
        reason = (
            "A missed hourly run is followed by the next one an hour later; its failures raise "
            "the function's Errors alarm, so a dead-letter queue would hold nothing to act on."
        )
        acknowledge(self.schedule, "Serverless-EventBusDLQ", reason)
        acknowledge(self.handler.function, "Serverless-LambdaDLQ", reason)
