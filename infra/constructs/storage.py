"""Where reports live: the calls and campaigns tables, and the one bucket. Each table has a
stream of its changes, with both images (what changed is what becomes an event)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.names import CallsTable, CampaignsTable
from infra.security import acknowledge

_STRING = dynamodb.AttributeType.STRING


class ReportStorage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, retain_data: bool) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain_data else RemovalPolicy.DESTROY
        self.calls_table = self._table(
            "CallsTable",
            partition_key=CallsTable.PARTITION_KEY,
            sort_key=CallsTable.SORT_KEY,
            removal=removal,
            protect=retain_data,
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
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireOldVersions",
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(2),
                )
            ],
            removal_policy=removal,
            auto_delete_objects=not retain_data,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Only this stack's functions write here and objects are versioned; an audit trail of "
            "reads is better served by CloudTrail S3 data events than by a second bucket of logs.",
        )

    def _table(
        self,
        construct_id: str,
        *,
        partition_key: str,
        sort_key: str | None,
        removal: RemovalPolicy,
        protect: bool,
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
            deletion_protection=protect,
            removal_policy=removal,
            resource_policy=_tls_only(),
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )


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
