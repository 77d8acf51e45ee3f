"""The receiver: storage, recordings (queue, copier, dead letters), the postback API and events
out (bus, archive, stream function), with the outputs docs/contract.md lists."""

from __future__ import annotations

from aws_cdk import Aspects, CfnOutput, Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from functions.names import DEFAULT_STAGE, Output, physical_name_prefix, stack_name
from infra.bundling import functions_code
from infra.config import ReceiverConfig
from infra.constructs.events import EventsOut
from infra.constructs.monitoring import Monitoring
from infra.constructs.postbacks import PostbackApi
from infra.constructs.python_function import PythonFunction
from infra.constructs.recordings import Recordings
from infra.constructs.registration import CallfireRegistration, manual_subscribe_command
from infra.constructs.storage import ReportStorage
from infra.constructs.unstored_watch import UnstoredWatch
from infra.constructs.webhook_health import WebhookHealth
from infra.constructs.webhook_registration import WebhookRegistration
from infra.constructs.webhooks import WebhookApi
from infra.customer_key import imported_key
from infra.naming import NameAlarmsByStage

STACK_NAME = stack_name(DEFAULT_STAGE)


class ReceiverStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ReceiverConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Receives CallFire call, text and campaign reports into DynamoDB and S3 "
            f"(stage {config.stage}).",
        )
        self.stage = config.stage
        self.name_prefix = physical_name_prefix(config.stage)
        """What every explicit physical name starts with (infra/naming.py)."""
        code = functions_code()
        self.callfire_api_key: secretsmanager.ISecret | None = (
            secretsmanager.Secret.from_secret_name_v2(
                self, "CallfireApiKey", config.callfire_api_key_secret_name
            )
            if config.callfire_api_key_secret_name
            else None
        )
        """CallFire's API key, created by the user beforehand (`callfireApiKeySecretName`)."""
        self.callfire_credentials: secretsmanager.ISecret | None = (
            secretsmanager.Secret.from_secret_name_v2(
                self, "CallfireApiCredentials", config.callfire_api_credentials_secret_name
            )
            if config.callfire_api_credentials_secret_name
            else None
        )
        """CallFire's v2 API credentials (JSON username, password), created by the user
        beforehand (`callfireApiCredentialsSecretName`)."""
        self.key = imported_key(self, config.kms_key_arn)
        """The customer's KMS key (`kmsKeyArn`), or None for the default encryption."""
        self.storage = ReportStorage(
            self,
            "Storage",
            retain_data=config.retain_data,
            report_retention_days=config.report_retention_days,
            recording_retention_days=config.recording_retention_days,
            rejected_retention_days=config.rejected_retention_days,
            key=self.key,
        )
        self.recordings = Recordings(
            self,
            "Recordings",
            code=code,
            storage=self.storage,
            recording_hosts=config.recording_hosts,
            callfire_base_url=config.callfire_base_url,
            api_key_secret=self.callfire_api_key,
            tracing=config.tracing,
            callfire_v2_base_url=config.callfire_v2_base_url,
            credentials_secret=self.callfire_credentials,
        )
        self.postbacks = PostbackApi(
            self,
            "Postbacks",
            code=code,
            storage=self.storage,
            recordings_queue=self.recordings.queue,
            max_body_bytes=config.max_body_bytes,
            rate_limit=config.api_rate_limit,
            burst_limit=config.api_burst_limit,
            tracing=config.tracing,
            report_retention_days=config.report_retention_days,
        )
        self.events = EventsOut(
            self,
            "Events",
            code=code,
            storage=self.storage,
            event_bus_arn=config.event_bus_arn,
            archive_days=config.event_archive_days,
            source=config.event_source,
            tracing=config.tracing,
        )
        self.webhooks = WebhookApi(
            self,
            "Webhooks",
            code=code,
            storage=self.storage,
            postbacks=self.postbacks,
            recordings_queue=self.recordings.queue,
            max_body_bytes=config.max_body_bytes,
            tracing=config.tracing,
            report_retention_days=config.report_retention_days,
        )
        self.registration = (
            CallfireRegistration(
                self,
                "Registration",
                code=code,
                postbacks=self.postbacks,
                api_key=self.callfire_api_key,
                base_url=config.callfire_base_url,
                campaign_ids=config.subscribe_campaign_ids,
                tracing=config.tracing,
                status_bucket=self.storage.bucket,
                key=self.key,
            )
            if self.callfire_api_key and config.registers_legacy
            else None
        )
        """Subscribes the postback URL with CallFire on deploy; None without an API key secret
        or when `callfireApi` is `v2`."""
        self.webhook_registration = (
            WebhookRegistration(
                self,
                "WebhookRegistration",
                code=code,
                webhooks=self.webhooks,
                credentials=self.callfire_credentials,
                base_url=config.callfire_v2_base_url,
                tracing=config.tracing,
                key=self.key,
            )
            if self.callfire_credentials and config.registers_webhooks
            else None
        )
        """Keeps the stack's v2 webhooks in CallFire; None unless `callfireApi` is v2 or both."""
        self.webhook_health = (
            WebhookHealth(
                self,
                "WebhookHealth",
                code=code,
                webhooks=self.webhooks,
                credentials=self.callfire_credentials,
                base_url=config.callfire_v2_base_url,
                repair=config.repair_webhooks,
                tracing=config.tracing,
                key=self.key,
            )
            if self.callfire_credentials and config.registers_webhooks
            else None
        )
        self.unstored_watch = UnstoredWatch(
            self, "UnstoredWatch", code=code, storage=self.storage, tracing=config.tracing
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            alarm_email=config.alarm_email,
            api=self.postbacks.api,
            functions=[
                self.postbacks.handler.function,
                self.webhooks.handler.function,
                self.recordings.copier.function,
                self.events.publisher.function,
                *([self.webhook_health.handler.function] if self.webhook_health else []),
            ],
            postback_logs=self.postbacks.handler.log_group,
            tables=[self.storage.calls_table, self.storage.campaigns_table],
            queue=self.recordings.queue,
            dead_letter_queue=self.recordings.dead_letter_queue,
            existing_alarms=[
                self.recordings.dead_letter_alarm,
                self.events.dead_letter_alarm,
                self.events.iterator_age_alarm,
                *([self.webhook_health.alarm] if self.webhook_health else []),
            ],
            silence_alarm_hours=config.silence_alarm_hours,
            extra_widgets=self.events.widgets(),
            key=self.key,
            scheduled=[self.unstored_watch.handler.function],
        )
        self.webhooks.notify_through(self.monitoring.topic, self.key)
        for function in self.node.find_all():
            if isinstance(function, PythonFunction):
                function.log_at(config.log_level)
        Aspects.of(self).add(NameAlarmsByStage())
        self._outputs(config)
        self._subscription_output(config)

    def _subscription_output(self, config: ReceiverConfig) -> None:
        if self.webhook_registration:
            CfnOutput(
                self,
                Output.CALLFIRE_WEBHOOKS,
                value=self.webhook_registration.summary,
                description="The stack keeps its CallFire v2 webhooks by itself.",
            )
        if not config.registers_legacy:
            return
        if self.registration:
            CfnOutput(
                self,
                Output.CALLFIRE_SUBSCRIPTION,
                value=self.registration.summary,
                description="The stack subscribes the postback URL with CallFire by itself.",
            )
            return
        CfnOutput(
            self,
            Output.SUBSCRIBE_COMMAND,
            value=manual_subscribe_command(
                postback_url=self.postbacks.postback_url,
                token_secret_arn=self.postbacks.token_secret.secret_arn,
                base_url=config.callfire_base_url,
                campaign_ids=config.subscribe_campaign_ids,
            ),
            description="Subscribe by hand (no callfireApiKeySecretName): set CALLFIRE_API_KEY "
            "to your CallFire API key in your shell, then run this line.",
        )

    def _outputs(self, config: ReceiverConfig) -> None:
        outputs = {
            Output.POSTBACK_URL: (
                self.postbacks.postback_url,
                "Register this URL with CallFire, adding ?token= and the token secret's value.",
            ),
            Output.TOKEN_SECRET_ARN: (
                self.postbacks.token_secret.secret_arn,
                "Read the token: `aws secretsmanager get-secret-value --secret-id <this ARN>`",
            ),
            Output.CALLS_TABLE: (
                self.storage.calls_table.table_name,
                "Calls, texts sent and replies.",
            ),
            Output.CAMPAIGNS_TABLE: (
                self.storage.campaigns_table.table_name,
                "Finished campaigns.",
            ),
            Output.BUCKET: (
                self.storage.bucket.bucket_name,
                "Recordings and refused or unstored bodies.",
            ),
            Output.DEAD_LETTER_QUEUE: (
                self.recordings.dead_letter_queue.queue_url,
                "Recording copies that kept failing.",
            ),
            Output.RECORDINGS_QUEUE: (
                self.recordings.queue.queue_url,
                "Recording copies to do (`make replay ARGS='--aws recordings'` fills it again).",
            ),
            Output.EVENT_BUS_NAME: (
                self.events.bus.event_bus_name,
                "The bus each new report and recording outcome is published on (docs/events.md).",
            ),
            Output.EVENTS_DEAD_LETTER_QUEUE: (
                self.events.dead_letter_queue.queue_url,
                "Stream records whose events could not be published "
                "(`make replay ARGS='--aws events'` publishes them again).",
            ),
            Output.WEBHOOK_URL: (
                self.webhooks.webhook_url,
                "CallFire v2 webhooks post here, signed with the webhook secret.",
            ),
            Output.WEBHOOK_SECRET_ARN: (
                self.webhooks.secret.secret_arn,
                "The secret CallFire's v2 webhooks sign with: `aws secretsmanager "
                "get-secret-value --secret-id <this ARN>`",
            ),
            Output.REPORT_RETENTION_DAYS: (
                str(config.report_retention_days),
                "Days each item lives (0: for ever); the replay tool writes items with it too.",
            ),
            Output.HASH_SALT_SECRET_ARN: (
                self.storage.hash_salt.secret_arn,
                "Keys the hashes of phone numbers in the archive index (read by tools.erase).",
            ),
        }
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
