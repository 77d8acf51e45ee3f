"""The stack's configuration, from CDK context (`cdk.json`, overrides with `-c`); an absent key
takes the default written here (docs/contract.md lists them all)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from constructs import Node

from functions.names import (
    CALLFIRE_DOMAIN,
    DEFAULT_CALLFIRE_BASE_URL,
    DEFAULT_CALLFIRE_V2_BASE_URL,
    DEFAULT_EVENT_ARCHIVE_DAYS,
    DEFAULT_EVENT_SOURCE,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_STAGE,
    CallfireApiChoice,
    Context,
)

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_STAGE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
MAX_STAGE_LENGTH = 20
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MIN_BODY_BYTES = 1024
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload, "6 MB" (Invoke API reference and the Lambda quotas
page); past it Lambda answers "Request must be smaller than 6291456 bytes for the InvokeFunction
operation"."""
HTTP_API_EVENT_ALLOWANCE = 64 * 1024
"""The HTTP API event around the body, at its largest: the request line and headers (at most
10,240 bytes, API Gateway's HTTP API quotas) can appear three times (the headers, the query string
raw and parsed, the user agent again in `requestContext`), each JSON-escaped (at most doubled),
with the fixed fields beside them."""
MAX_BODY_BYTES_CEILING = (LAMBDA_SYNC_PAYLOAD_BYTES - HTTP_API_EVENT_ALLOWANCE) // 4 * 3
"""The largest body whose base64 form (API Gateway passes a binary body base64-encoded: 4 bytes
for every 3) fits Lambda's payload beside its event: 4,669,440 bytes."""
MAX_SILENCE_ALARM_HOURS = 168
"""The silence alarm evaluates one-hour periods, and CloudWatch takes at most 7 days of them
(PutMetricAlarm: Period x EvaluationPeriods <= 604,800 seconds)."""
_EVENT_BUS_ARN = re.compile(r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._/-]+$")
_EVENT_SOURCE = re.compile(r"^[A-Za-z0-9._-]{1,256}$")
MAX_ARCHIVE_DAYS = 3650
MAX_RETENTION_DAYS = 36500
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
"""A key ARN, not an alias: IAM grants on a key name the key's own ARN."""


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ReceiverConfig:
    callfire_base_url: str = DEFAULT_CALLFIRE_BASE_URL
    callfire_api_key_secret_name: str | None = None
    subscribe_campaign_ids: tuple[str, ...] = ()
    recording_hosts: tuple[str, ...] = (CALLFIRE_DOMAIN,)
    retain_data: bool = True
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    api_rate_limit: int = 200
    api_burst_limit: int = 400
    tracing: bool = False
    alarm_email: str | None = None
    stage: str = DEFAULT_STAGE
    log_level: str = "INFO"
    silence_alarm_hours: int = 24
    """Hours without a report from CallFire before `ReportsSilent` is raised; 0: no alarm."""
    event_bus_arn: str | None = None
    event_archive_days: int = DEFAULT_EVENT_ARCHIVE_DAYS
    event_source: str = DEFAULT_EVENT_SOURCE
    callfire_api_credentials_secret_name: str | None = None
    callfire_v2_base_url: str = DEFAULT_CALLFIRE_V2_BASE_URL
    callfire_api: str = CallfireApiChoice.LEGACY
    repair_webhooks: bool = False

    @property
    def registers_legacy(self) -> bool:
        """Subscribes the legacy postbacks (or says how to by hand)."""
        return self.callfire_api in (CallfireApiChoice.LEGACY, CallfireApiChoice.BOTH)

    @property
    def registers_webhooks(self) -> bool:
        return self.callfire_api in (CallfireApiChoice.V2, CallfireApiChoice.BOTH)

    report_retention_days: int = 0
    """0 keeps items for ever; else DynamoDB's TTL deletes each item this long after arrival."""
    recording_retention_days: int = 0
    """0 keeps recordings for ever; else S3 lifecycle expires them this long after the copy."""
    rejected_retention_days: int = 0
    """0 keeps refused and conflicting bodies (`rejected/`) for ever; else as for recordings."""
    kms_key_arn: str | None = None
    """A customer-managed KMS key for the tables, bucket, queues, topic and the stack's secrets;
    absent: each keeps the encryption it had (AWS owned or S3/SQS-managed keys)."""

    @classmethod
    def from_context(cls, node: Node) -> ReceiverConfig:
        def get(name: str) -> Any:
            return node.try_get_context(name)

        defaults = cls()
        config = cls(
            callfire_base_url=str(
                get(Context.CALLFIRE_BASE_URL) or defaults.callfire_base_url
            ).rstrip("/"),
            callfire_api_key_secret_name=get(Context.CALLFIRE_API_KEY_SECRET_NAME) or None,
            subscribe_campaign_ids=_strings(get(Context.SUBSCRIBE_CAMPAIGN_IDS)),
            recording_hosts=_strings(get(Context.RECORDING_HOSTS)) or defaults.recording_hosts,
            retain_data=_boolean(get(Context.RETAIN_DATA), defaults.retain_data),
            max_body_bytes=int(get(Context.MAX_BODY_BYTES) or defaults.max_body_bytes),
            api_rate_limit=int(get(Context.API_RATE_LIMIT) or defaults.api_rate_limit),
            api_burst_limit=int(get(Context.API_BURST_LIMIT) or defaults.api_burst_limit),
            tracing=_boolean(get(Context.TRACING), defaults.tracing),
            alarm_email=get(Context.ALARM_EMAIL) or None,
            stage=str(get(Context.STAGE) or defaults.stage),
            log_level=str(get(Context.LOG_LEVEL) or defaults.log_level).upper(),
            silence_alarm_hours=_whole_number(
                get(Context.SILENCE_ALARM_HOURS),
                defaults.silence_alarm_hours,
                Context.SILENCE_ALARM_HOURS,
            ),
            event_bus_arn=get(Context.EVENT_BUS_ARN) or None,
            event_archive_days=_days(
                get(Context.EVENT_ARCHIVE_DAYS),
                defaults.event_archive_days,
                Context.EVENT_ARCHIVE_DAYS,
            ),
            event_source=str(get(Context.EVENT_SOURCE) or defaults.event_source),
            callfire_api_credentials_secret_name=(
                get(Context.CALLFIRE_API_CREDENTIALS_SECRET_NAME) or None
            ),
            callfire_v2_base_url=str(
                get(Context.CALLFIRE_V2_BASE_URL) or defaults.callfire_v2_base_url
            ).rstrip("/"),
            callfire_api=str(get(Context.CALLFIRE_API) or defaults.callfire_api).strip().lower(),
            repair_webhooks=_boolean(get(Context.REPAIR_WEBHOOKS), defaults.repair_webhooks),
            report_retention_days=_retention_days(
                get(Context.REPORT_RETENTION_DAYS), "reportRetentionDays"
            ),
            recording_retention_days=_retention_days(
                get(Context.RECORDING_RETENTION_DAYS), "recordingRetentionDays"
            ),
            rejected_retention_days=_retention_days(
                get(Context.REJECTED_RETENTION_DAYS), "rejectedRetentionDays"
            ),
            kms_key_arn=str(get(Context.KMS_KEY_ARN) or "").strip() or None,
        )
        config.validate()
        return config

    def validate(self) -> None:
        self._validate_callfire()
        if not MIN_BODY_BYTES <= self.max_body_bytes <= MAX_BODY_BYTES_CEILING:
            raise ConfigError(
                f"maxBodyBytes must be between {MIN_BODY_BYTES} and {MAX_BODY_BYTES_CEILING}, "
                f"not {self.max_body_bytes}: API Gateway hands a binary body to Lambda "
                f"base64-encoded (4 bytes for every 3) inside its event, and Lambda takes at "
                f"most {LAMBDA_SYNC_PAYLOAD_BYTES} bytes per synchronous invocation; a larger "
                f"body would be refused before the function could keep it"
            )
        if not _STAGE.fullmatch(self.stage) or len(self.stage) > MAX_STAGE_LENGTH:
            raise ConfigError(
                f"stage must be lower-case letters, digits and single hyphens, start with a letter "
                f"and be at most {MAX_STAGE_LENGTH} characters (it names the stack): {self.stage!r}"
            )
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(
                f"logLevel must be one of {', '.join(LOG_LEVELS)}: {self.log_level!r}"
            )
        if not 0 <= self.silence_alarm_hours <= MAX_SILENCE_ALARM_HOURS:
            raise ConfigError(
                f"silenceAlarmHours must be 0 (no alarm) to {MAX_SILENCE_ALARM_HOURS} (7 days, "
                f"CloudWatch's longest alarm window): {self.silence_alarm_hours!r}"
            )
        if self.event_bus_arn and not _EVENT_BUS_ARN.match(self.event_bus_arn):
            raise ConfigError(
                f"eventBusArn must be an event bus ARN (arn:aws:events:...:event-bus/NAME): "
                f"{self.event_bus_arn!r}"
            )
        if not 1 <= self.event_archive_days <= MAX_ARCHIVE_DAYS:
            raise ConfigError(f"eventArchiveDays must be between 1 and {MAX_ARCHIVE_DAYS}")
        if not _EVENT_SOURCE.match(self.event_source) or self.event_source.startswith("aws."):
            raise ConfigError(
                "eventSource must be 1 to 256 letters, digits, '.', '-' or '_', and not start "
                f"with 'aws.' (reserved by AWS): {self.event_source!r}"
            )
        for campaign_id in self.subscribe_campaign_ids:
            if not campaign_id.isdigit():
                raise ConfigError(f"subscribeCampaignIds holds a non-numeric id: {campaign_id!r}")
        if self.kms_key_arn is not None and not _KEY_ARN.match(self.kms_key_arn):
            raise ConfigError(
                "kmsKeyArn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an alias "
                f"or key id: {self.kms_key_arn!r}"
            )

    def _validate_callfire(self) -> None:
        """CallFire's URLs, which API generation the stack registers with, and what that needs."""
        for name, value in (
            (Context.CALLFIRE_BASE_URL, self.callfire_base_url),
            (Context.CALLFIRE_V2_BASE_URL, self.callfire_v2_base_url),
        ):
            url = urlsplit(value)
            local = url.hostname in _LOCAL_HOSTS
            if url.scheme != "https" and not (local and url.scheme == "http"):
                raise ConfigError(
                    f"{name} must be an https URL (http only for localhost): {value!r}"
                )
        choices = (CallfireApiChoice.LEGACY, CallfireApiChoice.V2, CallfireApiChoice.BOTH)
        if self.callfire_api not in choices:
            raise ConfigError(
                f"callfireApi must be one of {', '.join(choices)}: {self.callfire_api!r}"
            )
        if self.registers_webhooks and not self.callfire_api_credentials_secret_name:
            raise ConfigError(
                f"callfireApi={self.callfire_api} registers the stack's webhooks with CallFire's "
                "v2 API: set callfireApiCredentialsSecretName to the Secrets Manager secret that "
                'holds your API credentials as JSON {"username": ..., "password": ...}'
            )


def _strings(value: Any) -> tuple[str, ...]:
    """A list from cdk.json, or a comma-separated string from `-c name=a,b`."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(str(item).strip() for item in items if str(item).strip())


def _whole_number(value: Any, default: int, name: str) -> int:
    """A whole number where 0 means something (`silenceAlarmHours=0`: off): only a missing or
    empty value takes the default."""
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ConfigError(f"{name} must be a whole number of hours: {value!r}")
    return int(str(value).strip())


def _days(value: Any, default: int, name: str) -> int:
    """A number of days; missing, empty or 0 takes the default, as for the other numbers."""
    if value is None or str(value).strip() in {"", "0"}:
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of days: {value!r}") from None


def _retention_days(value: Any, name: str) -> int:
    """A whole number of days from 0 (keep for ever) to MAX_RETENTION_DAYS."""
    if value is None or value == "":
        return 0
    try:
        days = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of days, got {value!r}") from None
    if not 0 <= days <= MAX_RETENTION_DAYS:
        raise ConfigError(f"{name} must be between 0 (keep) and {MAX_RETENTION_DAYS} days")
    return days


def _boolean(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise ConfigError(f"expected true or false, got {value!r}")
