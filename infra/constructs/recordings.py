"""Recordings: the queue the postback function fills, the function that copies each recording
into the bucket, and the dead-letter queue (with its alarm) where copies that kept failing end."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.names import (
    DEFAULT_CALLFIRE_V2_BASE_URL,
    DEFAULT_RECORDING_CONNECT_TIMEOUT,
    DEFAULT_RECORDING_MAX_BYTES,
    DEFAULT_RECORDING_READ_TIMEOUT,
    Env,
    Handler,
    Prefix,
)
from infra.constructs.python_function import PythonFunction
from infra.constructs.storage import ReportStorage
from infra.customer_key import DECRYPT, GENERATE_DATA_KEY, allow_key_use
from infra.secrets import secret_policy_arn
from infra.security import acknowledge, logical_id

MAX_RECEIVES = 5
FUNCTION_TIMEOUT = Duration.minutes(5)
VISIBILITY_TIMEOUT = Duration.minutes(6 * 5)
"""AWS asks for at least six times the function's timeout on a queue that feeds a function."""
MEMORY_MB = 512
"""Streaming holds one 8 MiB part at a time; the memory buys network and CPU share."""
BATCH_SIZE = 5
MAX_CONCURRENCY = 5
"""At most this many copies run at once, so a burst of reports does not hammer CallFire."""


class Recordings(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        storage: ReportStorage,
        recording_hosts: Sequence[str],
        callfire_base_url: str,
        api_key_secret: secretsmanager.ISecret | None,
        tracing: bool,
        callfire_v2_base_url: str = DEFAULT_CALLFIRE_V2_BASE_URL,
        credentials_secret: secretsmanager.ISecret | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._bucket = storage.bucket
        encryption = sqs.QueueEncryption.KMS if storage.key else sqs.QueueEncryption.SQS_MANAGED
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            retention_period=Duration.days(14),
            encryption=encryption,
            encryption_master_key=storage.key,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=Duration.days(4),
            encryption=encryption,
            encryption_master_key=storage.key,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=MAX_RECEIVES, queue=self.dead_letter_queue
            ),
        )
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            alarm_description=(
                "Recording copies that kept failing wait in the dead-letter queue; "
                "docs/operations.md (Recordings) says how to look at them and send them back."
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        """Its actions come from whoever notifies people (the stack's Monitoring topic)."""
        self.copier = PythonFunction(
            self,
            "Copier",
            code=code,
            handler=Handler.RECORDINGS,
            description="Copies each queued CallFire recording into the bucket.",
            environment={
                Env.CALLS_TABLE: storage.calls_table.table_name,
                Env.BUCKET: storage.bucket.bucket_name,
                Env.RECORDINGS_QUEUE_URL: self.queue.queue_url,
                Env.RECORDING_HOSTS: ",".join(recording_hosts),
                Env.CALLFIRE_BASE_URL: callfire_base_url,
                Env.CALLFIRE_V2_BASE_URL: callfire_v2_base_url,
                Env.RECORDING_MAX_BYTES: str(DEFAULT_RECORDING_MAX_BYTES),
                Env.RECORDING_CONNECT_TIMEOUT: str(DEFAULT_RECORDING_CONNECT_TIMEOUT),
                Env.RECORDING_READ_TIMEOUT: str(DEFAULT_RECORDING_READ_TIMEOUT),
                Env.RECORDING_MAX_RECEIVES: str(MAX_RECEIVES),
                **(
                    {Env.CALLFIRE_API_KEY_SECRET_ARN: api_key_secret.secret_arn}
                    if api_key_secret is not None
                    else {}
                ),
                **(
                    {Env.CALLFIRE_API_CREDENTIALS_SECRET_ARN: credentials_secret.secret_arn}
                    if credentials_secret is not None
                    else {}
                ),
            },
            memory_size=MEMORY_MB,
            timeout=FUNCTION_TIMEOUT,
            tracing=tracing,
        )
        self._grant(storage, api_key_secret, credentials_secret)
        self.event_source = self.copier.function.add_event_source_mapping(
            "QueueSource",
            event_source_arn=self.queue.queue_arn,
            batch_size=BATCH_SIZE,
            max_concurrency=MAX_CONCURRENCY,
            report_batch_item_failures=True,
        )
        self._acknowledge()

    def _grant(
        self,
        storage: ReportStorage,
        api_key_secret: secretsmanager.ISecret | None,
        credentials_secret: secretsmanager.ISecret | None,
    ) -> None:
        role = self.copier.role
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[storage.calls_table.table_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[storage.bucket.arn_for_objects(f"{Prefix.RECORDINGS}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "sqs:ReceiveMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                resources=[self.queue.queue_arn],
            )
        )
        key = storage.key
        allow_key_use(role, key, service="dynamodb", actions=[DECRYPT])
        allow_key_use(role, key, service="s3", actions=[GENERATE_DATA_KEY, DECRYPT])
        allow_key_use(role, key, service="sqs", actions=[DECRYPT])
        secret_arns = [
            secret_policy_arn(secret)
            for secret in (api_key_secret, credentials_secret)
            if secret is not None
        ]
        if secret_arns:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"], resources=secret_arns
                )
            )
            allow_key_use(
                role, key, service="secretsmanager", actions=[DECRYPT], secret_arns=secret_arns
            )

    def _acknowledge(self) -> None:
        acknowledge(
            self.dead_letter_queue,
            "Serverless-SQSRedrivePolicy",
            "This is the dead-letter queue: what lands here stays for inspection and replay.",
        )
        acknowledge(
            self.copier.role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(self._bucket)}.Arn>/{Prefix.RECORDINGS}*]",
            "Recordings are keyed by campaign, call and index at run time; reading (to find an "
            "earlier copy), writing and aborting uploads are limited to the recordings/ prefix.",
        )
        acknowledge(
            self.event_source,
            "Serverless-LambdaEventSourceMappingDestination",
            "SQS event source mappings take no on-failure destination: the queue's redrive "
            "policy moves a message that keeps failing to its dead-letter queue, with an alarm.",
        )
        acknowledge(
            self.copier.function,
            "Serverless-LambdaDLQ",
            "The function is invoked by its SQS event source, never asynchronously: a message "
            "that keeps failing moves to the queue's own dead-letter queue after five receives.",
        )
