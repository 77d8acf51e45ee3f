"""Every name shared by the stack, the functions and the tools, defined once.

The stack imports these to name indexes, set environment variables and scope IAM policies; the
functions import them to read their configuration and to build items; the local system and the
tests import them to find what the template created. Attribute names are user-facing (they are the
columns in the DynamoDB console), so changing one is a contract change.
"""

from typing import Final


class Env:
    """Environment variables the stack sets on the functions."""

    CALLS_TABLE: Final = "CALLS_TABLE_NAME"
    CAMPAIGNS_TABLE: Final = "CAMPAIGNS_TABLE_NAME"
    BUCKET: Final = "BUCKET_NAME"
    RECORDINGS_QUEUE_URL: Final = "RECORDINGS_QUEUE_URL"
    TOKEN_SECRET_ARN: Final = "POSTBACK_TOKEN_SECRET_ARN"  # noqa: S105 - a variable name
    MAX_BODY_BYTES: Final = "MAX_BODY_BYTES"
    CALLFIRE_BASE_URL: Final = "CALLFIRE_BASE_URL"
    CALLFIRE_API_KEY_SECRET_ARN: Final = "CALLFIRE_API_KEY_SECRET_ARN"  # noqa: S105 - a name
    RECORDING_HOSTS: Final = "RECORDING_HOSTS"
    RECORDING_MAX_BYTES: Final = "RECORDING_MAX_BYTES"
    RECORDING_CONNECT_TIMEOUT: Final = "RECORDING_CONNECT_TIMEOUT_SECONDS"
    RECORDING_READ_TIMEOUT: Final = "RECORDING_READ_TIMEOUT_SECONDS"
    RECORDING_MAX_RECEIVES: Final = "RECORDING_MAX_RECEIVES"
    RECORDING_LOOPBACK_ORIGINS: Final = "RECORDING_LOOPBACK_ORIGINS"
    """Exact `host:port` pairs (comma-separated) that the recordings function may fetch over http
    and only on a loopback address: the stand-in CallFire of the tests and the local system. The
    stack never sets it; every other URL must be https and reach public addresses only."""


class CallsTable:
    PARTITION_KEY: Final = "callId"
    SORT_KEY: Final = "eventType"
    BY_CAMPAIGN: Final = "byCampaign"
    BY_PHONE_NUMBER: Final = "byPhoneNumber"
    CAMPAIGN_ID: Final = "campaignId"
    PHONE_NUMBER: Final = "phoneNumber"
    CALL_START: Final = "callStart"
    RECORDINGS: Final = "recordings"
    INDEX_ATTRIBUTES: Final = (
        "campaignId",
        "phoneNumber",
        "dnis",
        "disposition",
        "durationSeconds",
        "smsSent",
        "smsReceived",
        "replyFromCampaign",
        "agentId",
        "agentResponse",
        "tags",
        "receivedAt",
    )
    """What the indexes carry besides the keys: the columns for reading a list of calls. The
    large or changing attributes (`raw`, `extra`, `storedData`, `notes`, `recordings`,
    `deliveries`) stay on the table's item, so an index write costs one write unit, not three."""


class CampaignsTable:
    PARTITION_KEY: Final = "campaignId"


class Item:
    """Attributes every stored report carries, whatever its table."""

    RAW: Final = "raw"
    RECEIVED_AT: Final = "receivedAt"
    DELIVERIES: Final = "deliveries"
    EXTRA: Final = "extra"


class RecordingEntry:
    """The attributes of each map in a call item's `recordings` list."""

    URL: Final = "url"
    STATUS: Final = "status"
    S3_KEY: Final = "s3Key"
    CONTENT_TYPE: Final = "contentType"
    BYTES: Final = "bytes"
    REASON: Final = "reason"


class RecordingStatus:
    PENDING: Final = "PENDING"
    COPIED: Final = "COPIED"
    FAILED: Final = "FAILED"


class Prefix:
    """Top-level prefixes of the one bucket."""

    REJECTED: Final = "rejected/"
    UNSTORED: Final = "unstored/"
    RECORDINGS: Final = "recordings/"


class Route:
    POSTBACKS: Final = "/postbacks"
    TOKEN_PARAMETER: Final = "token"  # noqa: S105 - a parameter name


class CallfireApi:
    """CallFire's legacy report subscription endpoints: `{base}{REPORT_CALLBACKS}/{kind}[/{id}]`."""

    REPORT_CALLBACKS: Final = "/cloud/1/reports/callback"
    CALL_FINISH: Final = "callfinish"
    CAMPAIGN_FINISH: Final = "campaignfinish"
    API_KEY_FIELD: Final = "apikey"
    POST_URL_FIELD: Final = "postUrl"


class SubscriptionResource:
    """The custom resource that subscribes the postback URL with CallFire at deploy time. Its
    properties hold no secret value: the API key and the token travel as secret ARNs."""

    RESOURCE_TYPE: Final = "Custom::CallfireSubscription"
    POSTBACK_URL: Final = "PostbackUrl"
    CALLFIRE_BASE_URL: Final = "CallfireBaseUrl"
    CAMPAIGN_IDS: Final = "CampaignIds"
    API_KEY_SECRET_ARN: Final = "ApiKeySecretArn"  # noqa: S105 - a property name
    TOKEN_SECRET_ARN: Final = "TokenSecretArn"  # noqa: S105 - a property name


DEFAULT_MAX_BODY_BYTES: Final = 256 * 1024
NO_CAMPAIGN: Final = "no-campaign"
"""The `<campaignId>` segment of a recording's key when its report names no campaign."""
DEFAULT_RECORDING_MAX_BYTES: Final = 512 * 1024 * 1024
DEFAULT_RECORDING_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_RECORDING_READ_TIMEOUT: Final = 30.0
DEFAULT_RECORDING_MAX_RECEIVES: Final = 5
SERVICE_NAME: Final = "callfire-receiver"
METRICS_NAMESPACE: Final = "CallFireReceiver"
