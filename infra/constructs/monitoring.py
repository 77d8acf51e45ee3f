"""Telling the team when something is wrong: alarms on an SNS topic (an e-mail subscription from
configuration) and one CloudWatch dashboard with the metrics that matter."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.names import (
    METRICS_NAMESPACE,
    SERVICE_NAME,
    UNSTORED_ALARM_DAYS,
    Dimension,
    LogKey,
    Metric,
)
from functions.postback.service import Status
from infra.naming import physical_name, stage_of
from infra.security import acknowledge

FIVE_MINUTES = Duration.minutes(5)
AT_RISK_METRICS = {
    Metric.REPORTS_UNAVAILABLE: "reports answered 503: storage was unavailable; the bodies are in "
    "unstored/ (replay them with `make replay ARGS='archived unstored --since ...'`)",
    Metric.REPORTS_FAILED: "reports answered 500: an unexpected error; the bodies are in unstored/",
    Metric.RECORDINGS_NOT_QUEUED: "recordings left PENDING because the queue refused them "
    "(queue them with `make replay ARGS=recordings`)",
}
"""Service-level custom metrics that mean a report or recording needs a person."""
REPORT_METRICS = (
    Metric.REPORTS_RECEIVED,
    Metric.REPORTS_STORED,
    Metric.REPORTS_DUPLICATE,
    Metric.REPORTS_CONFLICTING,
    Metric.REPORTS_REFUSED,
    Metric.REQUESTS_FORBIDDEN,
)
RECORDING_METRICS = (
    Metric.RECORDINGS_QUEUED,
    Metric.RECORDINGS_COPIED,
    Metric.RECORDINGS_ALREADY_COPIED,
    Metric.RECORDINGS_RETRIED,
    Metric.RECORDINGS_FAILED,
    Metric.RECORDINGS_SKIPPED,
    Metric.RECORDING_JOBS_MALFORMED,
)
UNSTORED_WATCH_PERIOD = Duration.hours(1)


SILENCE_PERIOD = Duration.hours(1)
"""The silence alarm's period: CloudWatch allows 7 days of periods of an hour or more, but only
one day of shorter ones (PutMetricAlarm), and an hour is as precise as a day-long silence needs."""


def service_metric(
    name: str, statistic: str = "Sum", period: Duration = FIVE_MINUTES
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={Dimension.SERVICE: SERVICE_NAME},
        statistic=statistic,
        period=period,
    )


def unstored_age() -> cloudwatch.Metric:
    """Seconds the oldest body in unstored/ has waited, as the hourly watch publishes it."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=Metric.OLDEST_UNSTORED_BODY_AGE,
        dimensions_map={Dimension.SERVICE: SERVICE_NAME},
        statistic="Maximum",
        period=UNSTORED_WATCH_PERIOD,
    )


def split_from_logs(
    log_group: logs.ILogGroup,
    title: str,
    filters: str,
    by: str,
    view: cloudwatch.LogQueryVisualizationType,
) -> cloudwatch.LogQueryWidget:
    """Counts split by a field of the postback function's EMF records (LogKey), read with Logs
    Insights: one metric per kind or reason would cost $0.30 a month each, a query costs
    $0.005 per GB of log it scans when the dashboard is looked at."""
    return cloudwatch.LogQueryWidget(
        title=title,
        log_group_names=[log_group.log_group_name],
        query_lines=[
            f"filter {filters}",
            f"stats count(*) as reports by {by}",
        ],
        view=view,
        width=8,
    )


def outcome_is(*statuses: Status) -> str:
    return " or ".join(f'{LogKey.OUTCOME} = "{status.value}"' for status in statuses)


def alarms_may_publish(topic: sns.ITopic) -> iam.PolicyStatement:
    """CloudWatch may publish for this account's alarms in this region. A topic policy replaces
    SNS's default one, which is what lets alarms publish to a plain topic, so without this
    statement every alarm's history reads "not authorized to perform: SNS:Publish"
    (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger: the ArnLike
    on aws:SourceArn is AWS's documented form; the ARN holds the account, which scopes it)."""
    stack = Stack.of(topic)
    return iam.PolicyStatement(
        sid="AllowThisAccountsAlarmsToPublish",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["sns:Publish"],
        resources=[topic.topic_arn],
        conditions={
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name="*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            }
        },
    )


def _readable_name(function: lambda_.IFunction) -> str:
    """`PostbacksHandler` for the function at `Stack/Postbacks/Handler/Function`."""
    return "".join(function.node.path.split("/")[1:-1])


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_email: str | None,
        api: apigw.HttpApi,
        functions: Sequence[lambda_.IFunction],
        postback_logs: logs.ILogGroup,
        tables: Sequence[dynamodb.ITable],
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        existing_alarms: Sequence[cloudwatch.Alarm] = (),
        silence_alarm_hours: int = 0,
        extra_widgets: Sequence[cloudwatch.IWidget] = (),
        key: kms.IKey | None = None,
        scheduled: Sequence[lambda_.IFunction] = (),
    ) -> None:
        """`scheduled` functions get an Errors alarm only: they run once an hour, and a Lambda
        concurrency exhausted for the account already raises the request path's Throttles alarm
        (each alarm beyond the tenth is billed)."""
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"CallFire receiver alarms ({stage_of(self)})",
            enforce_ssl=True,
            master_key=key,
        )
        if key is None:
            acknowledge(
                self.topic,
                "AwsSolutions-SNS2",
                "The topic carries alarm notifications only, never report data; CloudWatch cannot "
                "publish to a topic encrypted with the AWS-managed SNS key (kmsKeyArn encrypts "
                "it with a customer key whose policy lets CloudWatch use it).",
            )
        self.topic.add_to_resource_policy(alarms_may_publish(self.topic))
        if alarm_email:
            email = subscriptions.EmailSubscription(alarm_email)
            self.topic.add_subscription(email)
            acknowledge(
                self.topic,
                "Serverless-SNSRedrivePolicy",
                "The subscription is an e-mail to a person; an undeliverable alarm e-mail needs no "
                "dead-letter queue, as every alarm also stays visible in the CloudWatch console.",
            )
        self.alarms: list[cloudwatch.Alarm] = []
        self._alarm_on_api(api)
        for function in functions:
            self._alarm_on_function(function)
        for function in scheduled:
            self._alarm_on_errors(function)
        for name, meaning in AT_RISK_METRICS.items():
            self._alarm(
                name,
                service_metric(name),
                description=f"At least one of the {meaning}.",
            )
        if silence_alarm_hours:
            self._alarm_on_silence(silence_alarm_hours)
        self._alarm(
            "UnstoredBodiesWaiting",
            unstored_age(),
            threshold=UNSTORED_ALARM_DAYS * 24 * 60 * 60,
            description=f"A body has waited in unstored/ for more than {UNSTORED_ALARM_DAYS} "
            "days: replay it (`make replay ARGS='archived unstored --since ...'`), or delete it "
            "if it should not be stored.",
        )
        if not existing_alarms:
            self._alarm(
                "DeadLetters",
                dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=FIVE_MINUTES, statistic="Maximum"
                ),
                description="Recording copies kept failing and are in the dead-letter queue.",
            )
        action = actions.SnsAction(self.topic)
        for alarm in [*self.alarms, *existing_alarms]:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        self.dashboard = self._dashboard(
            api,
            functions=functions,
            postback_logs=postback_logs,
            tables=tables,
            queue=queue,
            dead_letter_queue=dead_letter_queue,
        )
        if extra_widgets:
            self.dashboard.add_widgets(*extra_widgets)

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        description: str,
        threshold: float = 1,
        periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        self.alarms.append(alarm)
        return alarm

    def _alarm_on_silence(self, hours: int) -> None:
        """`ReportsSilent`: no report from CallFire in `hours` one-hour periods. A period without
        data is silence too (missing data breaches), so a receiver nobody posts to raises it: a
        lost subscription, a rotated token or a changed URL errors nowhere else. Smoke tests'
        reports are not counted in `ReportsReceived`, so `make smoke` cannot hide a silence."""
        alarm = cloudwatch.Alarm(
            self,
            "ReportsSilent",
            metric=service_metric(Metric.REPORTS_RECEIVED, period=SILENCE_PERIOD),
            threshold=1,
            evaluation_periods=hours,
            datapoints_to_alarm=hours,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            alarm_description=(
                f"No report from CallFire for {hours} hours (smoke tests do not count). Check "
                "the subscription (`make status ARGS=--aws` shows what was subscribed and when), "
                "the token in the URL CallFire posts to (RequestsForbidden counts refusals), the "
                "CallFire account (active, funded, campaigns running), and that the receiver "
                "answers (`make smoke ARGS=--aws`). A stage nobody posts to: "
                "-c silenceAlarmHours=0."
            ),
        )
        self.alarms.append(alarm)

    def _alarm_on_api(self, api: apigw.HttpApi) -> None:
        rate = cloudwatch.MathExpression(
            expression="100 * errors / MAX([requests, 1])",
            using_metrics={
                "errors": api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
                "requests": api.metric_count(period=FIVE_MINUTES, statistic="Sum"),
            },
            label="5xx rate (%)",
            period=FIVE_MINUTES,
        )
        self._alarm(
            "Api5xxRate",
            rate,
            threshold=1,
            periods=2,
            description="More than 1% of postbacks were answered 5xx for 10 minutes: CallFire "
            "is being asked to retry (storage or function errors; see the dashboard).",
        )

    def _alarm_on_function(self, function: lambda_.IFunction) -> None:
        name = _readable_name(function)
        self._alarm_on_errors(function)
        self._alarm(
            f"{name}Throttles",
            function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
            description=f"The {name} function was throttled: the account's Lambda concurrency "
            "is exhausted.",
        )

    def _alarm_on_errors(self, function: lambda_.IFunction) -> None:
        name = _readable_name(function)
        self._alarm(
            f"{name}Errors",
            function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            description=f"The {name} function failed (see its log group).",
        )

    def _dashboard(
        self,
        api: apigw.HttpApi,
        *,
        functions: Sequence[lambda_.IFunction],
        postback_logs: logs.ILogGroup,
        tables: Sequence[dynamodb.ITable],
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=physical_name(self),
            default_interval=Duration.hours(6),
        )
        dashboard.add_widgets(
            split_from_logs(
                postback_logs,
                "Reports stored, by kind",
                outcome_is(Status.STORED),
                f"{LogKey.KIND}, bin(5m)",
                cloudwatch.LogQueryVisualizationType.LINE,
            ),
            split_from_logs(
                postback_logs,
                "Duplicates and conflicts, by kind",
                outcome_is(Status.DUPLICATE, Status.CONFLICT),
                f"{LogKey.OUTCOME}, {LogKey.KIND}",
                cloudwatch.LogQueryVisualizationType.TABLE,
            ),
            split_from_logs(
                postback_logs,
                "Refused, by reason (bodies in rejected/)",
                outcome_is(Status.REJECTED),
                f"{LogKey.REASON}, bin(5m)",
                cloudwatch.LogQueryVisualizationType.LINE,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Reports",
                left=[service_metric(name) for name in REPORT_METRICS],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Needs a person",
                left=[service_metric(name) for name in AT_RISK_METRICS],
                right=[unstored_age()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Postback API",
                left=[
                    api.metric_count(period=FIVE_MINUTES),
                    api.metric_client_error(period=FIVE_MINUTES),
                    api.metric_server_error(period=FIVE_MINUTES),
                ],
                right=[
                    api.metric_latency(period=FIVE_MINUTES, statistic="p50"),
                    api.metric_latency(period=FIVE_MINUTES, statistic="p99"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Recording copies",
                left=[service_metric(name) for name in RECORDING_METRICS],
                right=[service_metric(Metric.RECORDING_BYTES_COPIED)],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Recordings queue",
                left=[
                    queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                    dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=FIVE_MINUTES
                    ),
                ],
                right=[queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES)],
                width=8,
            ),
        )
        dashboard.add_widgets(
            *[
                cloudwatch.GraphWidget(
                    title=f"{_readable_name(function)} function",
                    left=[
                        function.metric_invocations(period=FIVE_MINUTES),
                        function.metric_errors(period=FIVE_MINUTES),
                    ],
                    right=[function.metric_duration(period=FIVE_MINUTES, statistic="p99")],
                    width=8,
                )
                for function in functions
            ],
            cloudwatch.GraphWidget(
                title="DynamoDB writes and throttles",
                left=[
                    table.metric_consumed_write_capacity_units(period=FIVE_MINUTES)
                    for table in tables
                ],
                right=[
                    table.metric("WriteThrottleEvents", period=FIVE_MINUTES, statistic="Sum")
                    for table in tables
                ],
                width=8,
            ),
        )
        return dashboard
