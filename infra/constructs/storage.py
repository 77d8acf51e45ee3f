"""Where reports live: the calls and campaigns tables, the one bucket, and how long each kind of
data stays there (`reportRetentionDays`, `recordingRetentionDays`, `rejectedRetentionDays`). Each
table has a stream of its changes, with both images (what changed is what becomes an event)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.names import ARCHIVE_INDEX_PREFIXES, CallsTable, CampaignsTable, Env, Item, Prefix
from infra.customer_key import DECRYPT, GENERATE_DATA_KEY, allow_key_use
from infra.security import acknowledge, logical_id

_STRING = dynamodb.AttributeType.STRING
EXPIRED_VERSION_DAYS = 1
"""How long an expired recording or body stays as a noncurrent version before S3 removes it."""
SALT_LENGTH = 64


_NAMED_AT_RUN_TIME = {
    Prefix.REJECTED: "Archived bodies are named by day and request id at run time",
    Prefix.UNSTORED: "Archived bodies are named by day and request id at run time",
    Prefix.RAW: "Bodies too large for their items are named by their SHA-256 at run time",
    Prefix.ARCHIVE_INDEX: "Index markers are named by link hash, day and request id at run time",
    Prefix.EVENTS: "v2 events of other resource types are named by type, day, webhook and event "
    "at run time",
}
"""Why a receiving function's grant on each prefix names objects by wildcard (cdk-nag IAM5)."""


class ReportStorage(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retain_data: bool,
        report_retention_days: int = 0,
        recording_retention_days: int = 0,
        rejected_retention_days: int = 0,
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain_data else RemovalPolicy.DESTROY
        self.key = key
        expiring = report_retention_days > 0
        self.calls_table = self._table(
            "CallsTable",
            partition_key=CallsTable.PARTITION_KEY,
            sort_key=CallsTable.SORT_KEY,
            removal=removal,
            protect=retain_data,
            expiring=expiring,
        )
        for index_name, (partition_key, sort_key) in CallsTable.INDEXES.items():
            self.calls_table.add_global_secondary_index(
                index_name=index_name,
                partition_key=dynamodb.Attribute(name=partition_key, type=_STRING),
                sort_key=dynamodb.Attribute(name=sort_key, type=_STRING),
                projection_type=dynamodb.ProjectionType.INCLUDE,
                non_key_attributes=[
                    name for name in CallsTable.INDEX_ATTRIBUTES if name != partition_key
                ],
            )
        self.campaigns_table = self._table(
            "CampaignsTable",
            partition_key=CampaignsTable.PARTITION_KEY,
            sort_key=None,
            removal=removal,
            protect=retain_data,
            expiring=expiring,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=key,
            bucket_key_enabled=True if key else None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=_lifecycle_rules(
                report_retention_days, recording_retention_days, rejected_retention_days
            ),
            removal_policy=removal,
            auto_delete_objects=not retain_data,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Only this stack's functions write here and objects are versioned; an audit trail of "
            "reads is better served by CloudTrail S3 data events than by a second bucket of logs.",
        )
        self.hash_salt = secretsmanager.Secret(
            self,
            "HashSalt",
            description="Keys the hashes of phone numbers in the archive index and erasures.",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=SALT_LENGTH, exclude_punctuation=True, include_space=False
            ),
            encryption_key=key,
            removal_policy=removal,
        )
        acknowledge(
            self.hash_salt,
            "AwsSolutions-SMG4",
            "The salt keys the hashes already written into the archive index and the erasure "
            "audit records; a new value would leave every earlier one unfindable.",
        )

    def receiving_environment(
        self, *, recordings_queue: sqs.IQueue, report_retention_days: int
    ) -> dict[str, str]:
        """The environment a function that receives reports reads (functions/wiring/storage.py):
        the tables, the bucket, the recordings queue, the retention and the hash salt."""
        return {
            Env.CALLS_TABLE: self.calls_table.table_name,
            Env.CAMPAIGNS_TABLE: self.campaigns_table.table_name,
            Env.BUCKET: self.bucket.bucket_name,
            Env.RECORDINGS_QUEUE_URL: recordings_queue.queue_url,
            Env.REPORT_RETENTION_DAYS: str(report_retention_days),
            Env.HASH_SALT_SECRET_ARN: self.hash_salt.secret_arn,
        }

    def grant_receiving(
        self,
        role: iam.IRole,
        *,
        secret: secretsmanager.ISecret,
        recordings_queue: sqs.IQueue,
        prefixes: Sequence[str],
    ) -> None:
        """What a function that receives reports needs: write and merge items, keep bodies under
        `prefixes`, queue recordings, read its own `secret` and the hash salt; with a customer
        key, the KMS actions those calls make (infra/customer_key.py)."""
        tables = [self.calls_table.table_arn, self.campaigns_table.table_arn]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"],
                resources=tables,
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes],
            )
        )
        bucket = logical_id(self.bucket)
        for prefix in prefixes:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{prefix}*]",
                f"{_NAMED_AT_RUN_TIME[prefix]}; writing is limited to the {prefix} prefix and to "
                "PutObject.",
            )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[recordings_queue.queue_arn])
        )
        secrets = [secret.secret_arn, self.hash_salt.secret_arn]
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=secrets)
        )
        allow_key_use(role, self.key, service="dynamodb", actions=[DECRYPT])
        allow_key_use(role, self.key, service="s3", actions=[GENERATE_DATA_KEY])
        allow_key_use(role, self.key, service="sqs", actions=[GENERATE_DATA_KEY, DECRYPT])
        allow_key_use(
            role, self.key, service="secretsmanager", actions=[DECRYPT], secret_arns=secrets
        )

    def _table(
        self,
        construct_id: str,
        *,
        partition_key: str,
        sort_key: str | None,
        removal: RemovalPolicy,
        protect: bool,
        expiring: bool,
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition_key, type=_STRING),
            sort_key=dynamodb.Attribute(name=sort_key, type=_STRING) if sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=Item.EXPIRES_AT if expiring else None,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED if self.key else None,
            encryption_key=self.key,
            deletion_protection=protect,
            removal_policy=removal,
            resource_policy=_tls_only(),
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )


def _lifecycle_rules(
    report_days: int, recording_days: int, rejected_days: int
) -> list[s3.LifecycleRule]:
    """Old versions go after 30 days and delete markers once nothing is left behind them, for
    the whole bucket. Bodies kept beside their items (`raw/`) and the v2 events of other resource
    types (`events/`) expire with the reports, recordings
    and refused bodies (with their index markers) by their own settings, each last version a day
    later. `unstored/` never expires by age: those bodies wait for replay (the
    `UnstoredBodiesWaiting` alarm watches them)."""
    rules = [
        s3.LifecycleRule(
            id="ExpireOldVersions",
            noncurrent_version_expiration=Duration.days(30),
            abort_incomplete_multipart_upload_after=Duration.days(2),
            expired_object_delete_marker=True,
        )
    ]
    by_age = (
        ("ExpireRawBodies", Prefix.RAW, report_days),
        ("ExpireOtherEvents", Prefix.EVENTS, report_days),
        ("ExpireRecordings", Prefix.RECORDINGS, recording_days),
        ("ExpireRejected", Prefix.REJECTED, rejected_days),
        ("ExpireRejectedIndex", ARCHIVE_INDEX_PREFIXES[Prefix.REJECTED], rejected_days),
    )
    rules += [
        s3.LifecycleRule(
            id=rule_id,
            prefix=prefix,
            expiration=Duration.days(days),
            noncurrent_version_expiration=Duration.days(EXPIRED_VERSION_DAYS),
        )
        for rule_id, prefix, days in by_age
        if days > 0
    ]
    return rules


def _tls_only() -> iam.PolicyDocument:
    """DynamoDB also answers plain HTTP; this table does not."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="DenyInsecureTransport",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["dynamodb:*"],
                resources=["*"],
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            )
        ]
    )
