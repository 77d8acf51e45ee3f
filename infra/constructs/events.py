"""Events out: the bus (created here, or an existing one), its archive, and the function that turns
the tables' DynamoDB streams into events on it, with the dead-letter queue and alarms that make
sure nothing is lost quietly.

Why a stream function and not EventBridge Pipes: the same stream controls (batch size, bisect,
retries, maximum record age, an SQS on-failure destination), but each record makes zero, one or
several events of different detail types (an item, each recording that changed), and a DynamoDB
image must be unwrapped into plain JSON with exact numbers: plain Python here, an enrichment
function plus input templates there. And the local system runs this function from this template,
exactly as Lambda does, where moto runs no pipe.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.names import DEFAULT_EVENTS_RETRY_SECONDS, Env, Handler, Metric
from infra.constructs.monitoring import service_metric
from infra.constructs.python_function import PythonFunction
from infra.constructs.storage import ReportStorage
from infra.customer_key import DECRYPT, allow_key_use
from infra.naming import physical_name
from infra.security import acknowledge

BATCH_SIZE = 100
"""Up to 100 changes per invocation, put 10 at a time: a burst of reports is carried with few
invocations, and a poison record is isolated in at most 7 bisections."""
MAX_BATCHING_WINDOW = Duration.seconds(1)
FUNCTION_TIMEOUT = Duration.seconds(60)
RETRY_ATTEMPTS = 20
"""Lambda retries a failed batch this many times, each time after the function has retried its
failed entries for EVENTS_RETRY_SECONDS: an unavailable bus is retried for about ten minutes
before its records go to the dead-letter queue."""
MAX_RECORD_AGE = Duration.hours(6)
"""A record older than this goes to the dead-letter queue. DynamoDB keeps stream records for 24
hours, so `make replay ARGS='events'` has 18 hours to read a dead-lettered record again."""
ITERATOR_AGE_ALARM = Duration.hours(1)
EVENT_METRICS = (Metric.EVENTS_PUBLISHED, Metric.EVENTS_NOT_PUBLISHED, Metric.EVENTS_TRIMMED)


class EventsOut(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        storage: ReportStorage,
        event_bus_arn: str | None,
        archive_days: int,
        source: str,
        tracing: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus: events.IEventBus = (
            events.EventBus.from_event_bus_arn(self, "ExistingBus", event_bus_arn)
            if event_bus_arn
            else events.EventBus(
                self,
                "Bus",
                event_bus_name=physical_name(self, "events"),
                description="CallFire reports and recordings, as they are stored.",
            )
        )
        self.archive = (
            None
            if event_bus_arn
            else events.Archive(
                self,
                "Archive",
                source_event_bus=self.bus,
                description="Every event of the receiver, to replay to a new consumer.",
                event_pattern=events.EventPattern(source=[source]),
                retention=Duration.days(archive_days),
            )
        )
        """An existing bus belongs to whoever created it, and so does its archive."""
        # SQS-managed even with kmsKeyArn: it holds stream positions, never report data, and
        # the on-failure destination's own grant would add wildcard KMS actions to the role.
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.publisher = PythonFunction(
            self,
            "Publisher",
            code=code,
            handler=Handler.EVENTS,
            description="Puts each new report, version and recording outcome on the event bus.",
            environment={
                Env.CALLS_TABLE: storage.calls_table.table_name,
                Env.CAMPAIGNS_TABLE: storage.campaigns_table.table_name,
                Env.BUCKET: storage.bucket.bucket_name,
                Env.EVENT_BUS: self.bus.event_bus_arn,
                Env.EVENT_SOURCE: source,
                Env.EVENTS_RETRY_SECONDS: str(DEFAULT_EVENTS_RETRY_SECONDS),
            },
            memory_size=256,
            timeout=FUNCTION_TIMEOUT,
            tracing=tracing,
        )
        tables = (storage.calls_table, storage.campaigns_table)
        self.stream_sources = [self._stream_source(table) for table in tables]
        self._grant(tables)
        allow_key_use(
            self.publisher.role,
            storage.key,
            service="dynamodb",
            also_via=["streams.dynamodb"],
            actions=[DECRYPT],
        )
        self.dead_letter_alarm = self._alarm(
            "DeadLetterAlarm",
            self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=1,
            description="Stream records whose events could not be published are named in the "
            "events dead-letter queue: publish them again within 18 hours with "
            "`make replay ARGS='--aws events'` (docs/events.md).",
        )
        self.iterator_age_alarm = self._alarm(
            "IteratorAgeAlarm",
            self.publisher.function.metric(
                "IteratorAge", period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=ITERATOR_AGE_ALARM.to_milliseconds(),
            description="Events are more than an hour behind the tables (the bus refuses or "
            "throttles them); after 6 hours their records go to the dead-letter queue.",
        )
        self._acknowledge()

    def _stream_source(self, table: dynamodb.Table) -> lambda_.EventSourceMapping:
        return lambda_.EventSourceMapping(
            self,
            f"{table.node.id}Stream",
            target=self.publisher.function,
            event_source_arn=table.table_stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=BATCH_SIZE,
            max_batching_window=MAX_BATCHING_WINDOW,
            bisect_batch_on_error=True,
            report_batch_item_failures=True,
            retry_attempts=RETRY_ATTEMPTS,
            max_record_age=MAX_RECORD_AGE,
            parallelization_factor=1,
            on_failure=event_sources.SqsDlq(self.dead_letter_queue),
            filters=[
                lambda_.FilterCriteria.filter(
                    {"eventName": lambda_.FilterRule.or_("INSERT", "MODIFY")}
                )
            ],
        )

    def _grant(self, tables: Sequence[dynamodb.Table]) -> None:
        """Reading the two streams (the statement of "IAM policy to allow an AWS Lambda function
        to access DynamoDB stream records", DynamoDB Developer Guide, on the exact stream ARNs)
        and putting events on the one bus. Sending to the dead-letter queue comes with its
        on-failure destination."""
        self.publisher.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                resources=[table.table_stream_arn for table in tables if table.table_stream_arn],
            )
        )
        self.publisher.role.add_to_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.bus.event_bus_arn])
        )

    def _alarm(
        self, construct_id: str, metric: cloudwatch.IMetric, *, threshold: float, description: str
    ) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def widgets(self) -> list[cloudwatch.IWidget]:
        """The dashboard's row for events: what was published, what waits, how far behind."""
        function = self.publisher.function
        return [
            cloudwatch.GraphWidget(
                title="Events published",
                left=[service_metric(name) for name in EVENT_METRICS],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Events: stream lag and dead letters",
                left=[
                    function.metric(
                        "IteratorAge",
                        period=Duration.minutes(5),
                        statistic=cloudwatch.Stats.MAXIMUM,
                    )
                ],
                right=[
                    self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=Duration.minutes(5)
                    )
                ],
                width=8,
            ),
        ]

    def _acknowledge(self) -> None:
        acknowledge(
            self.dead_letter_queue,
            "Serverless-SQSRedrivePolicy",
            "This is the dead-letter queue: what lands here stays for inspection and replay.",
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This is the dead-letter queue of the stream event sources (their on-failure "
            "destination), not a queue that is consumed.",
        )
        acknowledge(
            self.publisher.function,
            "Serverless-LambdaDLQ",
            "The function is invoked by its DynamoDB stream event sources, never "
            "asynchronously: their on-failure destination is the events dead-letter queue.",
        )
