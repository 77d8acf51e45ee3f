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
    WEBHOOK_SECRET_ARN: Final = "WEBHOOK_SECRET_ARN"  # noqa: S105 - a variable name
    ALARM_TOPIC_ARN: Final = "ALARM_TOPIC_ARN"
    WEBHOOK_URL: Final = "WEBHOOK_URL"
    WEBHOOK_NAME_PREFIX: Final = "WEBHOOK_NAME_PREFIX"
    REPAIR_WEBHOOKS: Final = "REPAIR_WEBHOOKS"
    MAX_BODY_BYTES: Final = "MAX_BODY_BYTES"
    CALLFIRE_BASE_URL: Final = "CALLFIRE_BASE_URL"
    CALLFIRE_API_KEY_SECRET_ARN: Final = "CALLFIRE_API_KEY_SECRET_ARN"  # noqa: S105 - a name
    CALLFIRE_V2_BASE_URL: Final = "CALLFIRE_V2_BASE_URL"
    CALLFIRE_API_CREDENTIALS_SECRET_ARN: Final = "CALLFIRE_API_CREDENTIALS_SECRET_ARN"  # noqa: S105
    RECORDING_HOSTS: Final = "RECORDING_HOSTS"
    RECORDING_MAX_BYTES: Final = "RECORDING_MAX_BYTES"
    RECORDING_CONNECT_TIMEOUT: Final = "RECORDING_CONNECT_TIMEOUT_SECONDS"
    RECORDING_READ_TIMEOUT: Final = "RECORDING_READ_TIMEOUT_SECONDS"
    RECORDING_MAX_RECEIVES: Final = "RECORDING_MAX_RECEIVES"
    REPORT_RETENTION_DAYS: Final = "REPORT_RETENTION_DAYS"
    """Days a stored report's item lives (DynamoDB TTL on `expiresAt`); 0 or absent: forever."""
    HASH_SALT_SECRET_ARN: Final = "HASH_SALT_SECRET_ARN"  # noqa: S105 - a variable name
    """The secret whose value keys the hashes of phone numbers in the archive index."""
    RECORDING_LOOPBACK_ORIGINS: Final = "RECORDING_LOOPBACK_ORIGINS"
    """Exact `host:port` pairs (comma-separated) that the recordings function may fetch over http
    and only on a loopback address: the stand-in CallFire of the tests and the local system. The
    stack never sets it; every other URL must be https and reach public addresses only."""
    RECORDING_STAND_INS: Final = "RECORDING_STAND_INS"
    """`host=origin` pairs (comma-separated, e.g. `callfire.com=127.0.0.1:8081`): a recording URL
    on `host` (or a subdomain of it) that passes every rule for its own URL is fetched from
    `origin` instead, over http and on a loopback address only. The local system sets it so that
    CallFire's documented recording URLs are served by its stand-in CallFire; the stack never
    sets it."""
    EVENT_BUS: Final = "EVENT_BUS"
    """The bus the events function puts events on: its ARN (a name also works in the same
    account)."""
    EVENT_SOURCE: Final = "EVENT_SOURCE"
    EVENTS_RETRY_SECONDS: Final = "EVENTS_RETRY_SECONDS"
    """How long one invocation of the events function keeps retrying throttled or failed
    PutEvents entries before it hands the record back to the stream (Lambda retries it)."""


class Item:
    """Attributes every stored report carries, whatever its table."""

    RAW: Final = "raw"
    RAW_S3_KEY: Final = "rawS3Key"
    """Instead of `raw` on an item too large for its body: the body's key in the bucket."""
    TRIMMED: Final = "trimmed"
    """The attributes cut short so that the item fits DynamoDB's item size (the body has them)."""
    RECEIVED_AT: Final = "receivedAt"
    DELIVERIES: Final = "deliveries"
    EXTRA: Final = "extra"
    VERSION: Final = "version"
    """How many times the item's report was replaced (remap, a newer v2 webhook, a report merged
    into a campaign's item); absent means 1. Each new version is published again as an event."""
    UPDATED_AT: Final = "updatedAt"
    """When the item was last replaced by a new version or merged into (absent on version 1)."""
    SOURCE: Final = "source"
    """Which generation of CallFire's reports the item's `raw` came from (`Source`)."""
    EXPIRES_AT: Final = "expiresAt"
    """Epoch seconds after which DynamoDB's TTL deletes the item; only with a report retention."""


class Source:
    """The values of `source`."""

    LEGACY_POSTBACK: Final = "legacy-postback"
    V2_WEBHOOK: Final = "v2-webhook"


class WebhookAttribute:
    """What every item stored from a v2 webhook event carries besides its table's attributes."""

    WEBHOOK_ID: Final = "webhookId"
    EVENT_TIMESTAMP: Final = "eventTimestamp"
    RESOURCE_MODIFIED: Final = "resourceModified"


class CallAttribute:
    """The attributes of a call, text or reply item (docs/contract.md describes each)."""

    CALL_ID: Final = "callId"
    EVENT_TYPE: Final = "eventType"
    CAMPAIGN_ID: Final = "campaignId"
    PHONE_NUMBER: Final = "phoneNumber"
    DNIS: Final = "dnis"
    TAGS: Final = "tags"
    DISPOSITION: Final = "disposition"
    DURATION_SECONDS: Final = "durationSeconds"
    CALL_START: Final = "callStart"
    RESPONSE_TIME: Final = "responseTime"
    NOTES: Final = "notes"
    EXTRA_DATA: Final = "extraData"
    AGENT_ID: Final = "agentId"
    AGENT_RESPONSE: Final = "agentResponse"
    STORED_DATA: Final = "storedData"
    SMS_SENT: Final = "smsSent"
    SMS_RECEIVED: Final = "smsReceived"
    REPLY_FROM_CAMPAIGN: Final = "replyFromCampaign"
    RECORDINGS: Final = "recordings"
    BATCH_ID: Final = "batchId"
    FROM_NUMBER: Final = "fromNumber"
    TO_NUMBER: Final = "toNumber"
    INBOUND: Final = "inbound"
    STATE: Final = "state"
    FINISH_TIME: Final = "finishTime"
    BILLED_AMOUNT: Final = "billedAmount"
    CONTACT: Final = "contact"
    RECORDS: Final = "records"
    MEDIA: Final = "media"


class CampaignAttribute:
    """The attributes of a campaign item; the statistics are flattened into numbers."""

    CAMPAIGN_ID: Final = "campaignId"
    NAME: Final = "name"
    STATUS: Final = "status"
    COST: Final = "cost"
    CURRENCY: Final = "currency"
    COST_RAW: Final = "costRaw"
    TOTAL: Final = "total"
    DIALED: Final = "dialed"
    LIVE: Final = "live"
    MACHINE: Final = "machine"
    NO_ANSWER: Final = "noAnswer"
    DNC: Final = "dnc"
    BUSY: Final = "busy"
    TRANSFER: Final = "transfer"
    ERROR: Final = "error"
    MISC: Final = "misc"
    CAMPAIGN_TYPE: Final = "campaignType"
    FROM_NUMBER: Final = "fromNumber"
    TAGS: Final = "tags"
    EVENTS: Final = "events"
    """v2 campaigns: a map of CampaignEvent name → ISO UTC time."""
    POSTBACK_RAW: Final = "postbackRaw"
    """On a campaign both generations reported: the legacy `campaign-finished` body."""
    POSTBACK_RAW_S3_KEY: Final = "postbackRawS3Key"
    """Instead of `postbackRaw`, when that body was too large for the item: where it is kept."""


class CampaignEvent:
    """The keys of a v2 campaign item's `events` map."""

    STARTED: Final = "Started"
    STOPPED: Final = "Stopped"
    FINISHED: Final = "Finished"


class CallsTable:
    PARTITION_KEY: Final = CallAttribute.CALL_ID
    SORT_KEY: Final = CallAttribute.EVENT_TYPE
    BY_CAMPAIGN: Final = "byCampaign"
    BY_PHONE_NUMBER: Final = "byPhoneNumber"
    INDEX_ATTRIBUTES: Final = (
        CallAttribute.CAMPAIGN_ID,
        CallAttribute.PHONE_NUMBER,
        CallAttribute.DNIS,
        CallAttribute.DISPOSITION,
        CallAttribute.DURATION_SECONDS,
        CallAttribute.SMS_SENT,
        CallAttribute.SMS_RECEIVED,
        CallAttribute.REPLY_FROM_CAMPAIGN,
        CallAttribute.AGENT_ID,
        CallAttribute.AGENT_RESPONSE,
        CallAttribute.TAGS,
        Item.RECEIVED_AT,
    )
    """What the indexes carry besides the keys: the columns for reading a list of calls. The
    large or changing attributes (`raw`, `extra`, `storedData`, `notes`, `recordings`,
    `deliveries`) stay on the table's item, so an index write costs one write unit, not three."""
    INDEXES: Final = {
        BY_CAMPAIGN: (CallAttribute.CAMPAIGN_ID, CallAttribute.CALL_START),
        BY_PHONE_NUMBER: (CallAttribute.PHONE_NUMBER, CallAttribute.CALL_START),
    }
    """Each index: its partition key and sort key."""


NUMBER_ATTRIBUTES: Final = (
    CallAttribute.PHONE_NUMBER,
    CallAttribute.DNIS,
    "fromNumber",
    "toNumber",
)
"""Every call-item attribute that can hold a person's phone number: the contact's side
(`phoneNumber`, also on the `byPhoneNumber` index) and the other side (`dnis` on legacy items,
`fromNumber`/`toNumber` on v2 items). Erasure and the archive index look in each."""


class CampaignsTable:
    PARTITION_KEY: Final = CampaignAttribute.CAMPAIGN_ID


class RecordingEntry:
    """The attributes of each map in a call item's `recordings` list."""

    URL: Final = "url"
    STATUS: Final = "status"
    S3_KEY: Final = "s3Key"
    CONTENT_TYPE: Final = "contentType"
    BYTES: Final = "bytes"
    REASON: Final = "reason"
    RECORDING_ID: Final = "recordingId"
    RECORDING_STATE: Final = "recordingState"


class RecordingState:
    """CallFire's states of a v2 recording (`recordingState`)."""

    RECORDING: Final = "RECORDING"
    READY: Final = "READY"
    ERROR: Final = "ERROR"


class RecordingStatus:
    PENDING: Final = "PENDING"
    COPIED: Final = "COPIED"
    FAILED: Final = "FAILED"


class Prefix:
    """Top-level prefixes of the one bucket."""

    REJECTED: Final = "rejected/"
    UNSTORED: Final = "unstored/"
    RECORDINGS: Final = "recordings/"
    RAW: Final = "raw/"
    """Bodies of stored reports whose items are too large to hold them, named by content."""
    EVENTS: Final = "events/"
    """v2 webhook events of resource types the tables do not take, kept as received."""
    STATUS: Final = "status/"
    """What the stack records about itself for `make status` (StatusObject)."""
    ARCHIVE_INDEX: Final = "archive-index/"
    """Empty marker objects that find archived bodies by phone number (keyed hash), call id or
    campaign id: `archive-index/<archive prefix>/<phone|call|campaign>/<hash>/<YYYY/MM/DD/id>`."""
    ERASURES: Final = "erasures/"
    """The erasure tool's audit records, one JSON object per erasure."""


class StatusObject:
    """Objects under `status/`: each function's last result that the status tool reads."""

    REGISTRATION: Final = f"{Prefix.STATUS}registration.json"
    """The registration function's last result (RegistrationRecord), written on Create and
    Update: what it subscribed with CallFire, when, or why it could not."""


class RegistrationRecord:
    """The fields of `status/registration.json`. None holds a secret: the properties name the
    API key and the token by secret ARN, and the message is redacted as the deploy's own."""

    RESULT: Final = "result"
    AT: Final = "at"
    REQUEST_TYPE: Final = "requestType"
    SUBSCRIPTIONS: Final = "subscriptions"
    MESSAGE: Final = "message"
    FUNCTION: Final = "function"
    PROPERTIES: Final = "properties"
    SUBSCRIBED: Final = "subscribed"
    FAILED: Final = "failed"


ARCHIVE_PREFIXES: Final = (Prefix.REJECTED, Prefix.UNSTORED)
"""Where bodies are archived as received."""
ARCHIVE_INDEX_PREFIXES: Final = {
    prefix: f"{Prefix.ARCHIVE_INDEX}{prefix}" for prefix in ARCHIVE_PREFIXES
}
"""Where each archive's index markers live (`archive-index/rejected/`): they expire with it."""


class ArchiveTag:
    """Tags on archived bodies (`rejected/`, `unstored/`)."""

    REPLAYED: Final = "replayed"
    """Set by the replay tool: what came of the body (`new`, `duplicate`, `conflict`)."""


class Route:
    POSTBACKS: Final = "/postbacks"
    TOKEN_PARAMETER: Final = "token"  # noqa: S105 - a parameter name
    WEBHOOKS: Final = "/webhooks"
    SIGNATURE_HEADER: Final = "x-callfire-signature"
    """CallFire's `X-CallFire-Signature` as API Gateway hands it over (names in lower case)."""


class CallfireV2:
    """CallFire's API v2 vocabulary: webhook resources and events as its deliveries spell them
    (events are also accepted in lower case), and the endpoints this project calls."""

    OUTBOUND_CALL: Final = "OutboundCall"
    INBOUND_CALL: Final = "InboundCall"
    OUTBOUND_TEXT: Final = "OutboundText"
    INBOUND_TEXT: Final = "InboundText"
    CALL_BROADCAST: Final = "CallBroadcast"
    TEXT_BROADCAST: Final = "TextBroadcast"
    CCC_CAMPAIGN: Final = "CccCampaign"
    LOW_BALANCE: Final = "LowBalance"
    STARTED: Final = "Started"
    STOPPED: Final = "Stopped"
    FINISHED: Final = "Finished"
    FAILED: Final = "Failed"
    WEBHOOKS_PATH: Final = "/v2/webhooks"
    RECORDINGS_PATH: Final = "/v2/calls/recordings"
    """`{RECORDINGS_PATH}/{id}` is a recording's metadata; `{RECORDINGS_PATH}/{id}.mp3` its MP3."""


class CallfireApiChoice:
    """The values of `callfireApi`."""

    LEGACY: Final = "legacy"
    V2: Final = "v2"
    BOTH: Final = "both"


class CallfireCredentials:
    """The fields of the API credentials secret (`callfireApiCredentialsSecretName`): JSON."""

    USERNAME: Final = "username"
    PASSWORD: Final = "password"  # noqa: S105 - a field name


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


class WebhookResource:
    """The custom resource that creates, updates and deletes the stack's CallFire v2 webhooks.
    Its properties hold no secret value: the credentials and the webhook secret travel as ARNs."""

    RESOURCE_TYPE: Final = "Custom::CallfireWebhooks"
    WEBHOOK_URL: Final = "WebhookUrl"
    CALLFIRE_V2_BASE_URL: Final = "CallfireV2BaseUrl"
    CREDENTIALS_SECRET_ARN: Final = "CredentialsSecretArn"  # noqa: S105 - a property name
    WEBHOOK_SECRET_ARN: Final = "WebhookSecretArn"  # noqa: S105 - a property name
    NAME_PREFIX: Final = "NamePrefix"
    """The stack's name: each webhook is named `<NamePrefix>-<resource>`."""


WEBHOOK_SUBSCRIPTIONS: Final = {
    CallfireV2.OUTBOUND_CALL: (CallfireV2.FINISHED,),
    CallfireV2.INBOUND_CALL: (CallfireV2.FINISHED,),
    CallfireV2.OUTBOUND_TEXT: (CallfireV2.FINISHED,),
    CallfireV2.INBOUND_TEXT: (CallfireV2.FINISHED,),
    CallfireV2.CALL_BROADCAST: (CallfireV2.STARTED, CallfireV2.STOPPED, CallfireV2.FINISHED),
    CallfireV2.TEXT_BROADCAST: (CallfireV2.STARTED, CallfireV2.STOPPED, CallfireV2.FINISHED),
    CallfireV2.LOW_BALANCE: (CallfireV2.FINISHED, CallfireV2.FAILED),
}
"""The webhooks the stack keeps in CallFire (one per resource) and the events of each."""


class Context:
    """The stack's configuration keys (CDK context): `-c name=value` or `cdk.json`."""

    CALLFIRE_BASE_URL: Final = "callfireBaseUrl"
    CALLFIRE_API_KEY_SECRET_NAME: Final = "callfireApiKeySecretName"  # noqa: S105 - a key name
    CALLFIRE_API_CREDENTIALS_SECRET_NAME: Final = "callfireApiCredentialsSecretName"  # noqa: S105
    CALLFIRE_V2_BASE_URL: Final = "callfireV2BaseUrl"
    CALLFIRE_API: Final = "callfireApi"
    """Which generation(s) of CallFire's reports the stack registers for (`CallfireApiChoice`)."""
    REPAIR_WEBHOOKS: Final = "repairWebhooks"
    SUBSCRIBE_CAMPAIGN_IDS: Final = "subscribeCampaignIds"
    RECORDING_HOSTS: Final = "recordingHosts"
    RETAIN_DATA: Final = "retainData"
    MAX_BODY_BYTES: Final = "maxBodyBytes"
    API_RATE_LIMIT: Final = "apiRateLimit"
    API_BURST_LIMIT: Final = "apiBurstLimit"
    TRACING: Final = "tracing"
    ALARM_EMAIL: Final = "alarmEmail"
    STAGE: Final = "stage"
    LOG_LEVEL: Final = "logLevel"
    SILENCE_ALARM_HOURS: Final = "silenceAlarmHours"
    EVENT_BUS_ARN: Final = "eventBusArn"
    EVENT_ARCHIVE_DAYS: Final = "eventArchiveDays"
    EVENT_SOURCE: Final = "eventSource"
    REPORT_RETENTION_DAYS: Final = "reportRetentionDays"
    RECORDING_RETENTION_DAYS: Final = "recordingRetentionDays"
    REJECTED_RETENTION_DAYS: Final = "rejectedRetentionDays"
    KMS_KEY_ARN: Final = "kmsKeyArn"


class LocalEndpoint:
    """The keys of `.local/endpoints.json`, written while `make local` runs."""

    ENDPOINT_URL: Final = "endpoint_url"
    REGION: Final = "region"
    POSTBACK_URL: Final = "postback_url"
    CALLS_TABLE: Final = "calls_table"
    CAMPAIGNS_TABLE: Final = "campaigns_table"
    BUCKET: Final = "bucket"
    RECORDINGS_QUEUE: Final = "recordings_queue"
    DEAD_LETTER_QUEUE: Final = "dead_letter_queue"
    CALLFIRE_URL: Final = "callfire_url"
    STAGE: Final = "stage"
    WEBHOOK_URL: Final = "webhook_url"
    WEBHOOK_SECRET: Final = "webhook_secret"  # noqa: S105 - a key name
    """The webhook secret's value: local only (the stack's own is read from its ARN)."""
    EVENT_BUS: Final = "event_bus"
    EVENT_SOURCE: Final = "event_source"
    EVENTS_QUEUE: Final = "events_queue"
    """A local-only queue that a catch-all rule on the local bus feeds, to watch the events."""
    EVENTS_DEAD_LETTER_QUEUE: Final = "events_dead_letter_queue"
    REPORT_RETENTION_DAYS: Final = "report_retention_days"
    HASH_SALT_SECRET: Final = "hash_salt_secret"  # noqa: S105 - a key name


class Handler:
    """Each function's handler, as the stack names it and the local system and tests find it."""

    POSTBACK: Final = "functions.handlers.postback.lambda_handler"
    RECORDINGS: Final = "functions.handlers.recordings.lambda_handler"
    REGISTRATION: Final = "functions.handlers.registration.lambda_handler"
    EVENTS: Final = "functions.handlers.events.lambda_handler"
    WEBHOOKS: Final = "functions.handlers.webhooks.lambda_handler"
    WEBHOOK_REGISTRATION: Final = "functions.handlers.webhook_registration.lambda_handler"
    WEBHOOK_HEALTH: Final = "functions.handlers.webhook_health.lambda_handler"
    UNSTORED_WATCH: Final = "functions.handlers.unstored_watch.lambda_handler"


class Output:
    """The stack's outputs: what `aws cloudformation describe-stacks` shows and the tools read."""

    POSTBACK_URL: Final = "PostbackUrl"
    TOKEN_SECRET_ARN: Final = "TokenSecretArn"  # noqa: S105 - an output name
    CALLS_TABLE: Final = "CallsTableName"
    CAMPAIGNS_TABLE: Final = "CampaignsTableName"
    BUCKET: Final = "BucketName"
    DEAD_LETTER_QUEUE: Final = "DeadLetterQueueUrl"
    RECORDINGS_QUEUE: Final = "RecordingsQueueUrl"
    SUBSCRIBE_COMMAND: Final = "SubscribeCommand"
    CALLFIRE_SUBSCRIPTION: Final = "CallfireSubscription"
    WEBHOOK_URL: Final = "WebhookUrl"
    WEBHOOK_SECRET_ARN: Final = "WebhookSecretArn"  # noqa: S105 - an output name
    """The v2 webhook route (`POST /webhooks`): its URL and its signing secret."""
    EVENT_BUS_NAME: Final = "EventBusName"
    EVENTS_DEAD_LETTER_QUEUE: Final = "EventsDeadLetterQueueUrl"
    CALLFIRE_WEBHOOKS: Final = "CallfireWebhooks"
    REPORT_RETENTION_DAYS: Final = "ReportRetentionDays"
    HASH_SALT_SECRET_ARN: Final = "HashSaltSecretArn"  # noqa: S105 - an output name


class Metric:
    """The custom metrics the functions publish (namespace METRICS_NAMESPACE). Alarms and the
    dashboard read them by these names."""

    REPORTS_RECEIVED: Final = "ReportsReceived"
    REPORTS_STORED: Final = "ReportsStored"
    REPORTS_UPDATED: Final = "ReportsUpdated"
    REPORTS_DUPLICATE: Final = "ReportsDuplicate"
    REPORTS_CONFLICTING: Final = "ReportsConflicting"
    REQUESTS_FORBIDDEN: Final = "RequestsForbidden"
    REPORTS_REFUSED: Final = "ReportsRefused"
    REPORTS_UNAVAILABLE: Final = "ReportsUnavailable"
    REPORTS_FAILED: Final = "ReportsFailed"
    RECORDINGS_QUEUED: Final = "RecordingsQueued"
    RECORDINGS_NOT_QUEUED: Final = "RecordingsNotQueued"
    RECORDINGS_COPIED: Final = "RecordingsCopied"
    RECORDINGS_ALREADY_COPIED: Final = "RecordingsAlreadyCopied"
    RECORDINGS_FAILED: Final = "RecordingsFailed"
    RECORDINGS_SKIPPED: Final = "RecordingsSkipped"
    RECORDINGS_RETRIED: Final = "RecordingsRetried"
    RECORDING_JOBS_MALFORMED: Final = "RecordingJobsMalformed"
    RECORDING_BYTES_COPIED: Final = "RecordingBytesCopied"
    EVENTS_PUBLISHED: Final = "EventsPublished"
    EVENTS_NOT_PUBLISHED: Final = "EventsNotPublished"
    EVENTS_TRIMMED: Final = "EventsTrimmed"
    EVENTS_KEPT: Final = "EventsKept"
    LOW_BALANCE_EVENTS: Final = "LowBalanceEvents"
    WEBHOOKS_UNHEALTHY: Final = "WebhooksUnhealthy"
    """The stack's webhooks found missing, disabled or otherwise wrong by the hourly check."""
    WEBHOOKS_REPAIRED: Final = "WebhooksRepaired"
    OLDEST_UNSTORED_BODY_AGE: Final = "OldestUnstoredBodyAge"
    """Seconds since the oldest body in `unstored/` that was never replayed arrived. Published by
    the unstored watch every hour while such a body waits (no data point when none does)."""


class Dimension:
    """The dimensions metrics are published with."""

    SERVICE: Final = "service"


class LogKey:
    """Keys on the functions' EMF records and log lines, which CloudWatch Logs Insights reads: the
    dashboard splits the counts by them, so that no metric is published per kind or reason."""

    OUTCOME: Final = "outcome"
    """What became of the postback: `stored`, `updated`, `duplicate`, `conflict`, `forbidden`,
    `rejected`, `unavailable` or `failed`; of a webhook delivery: `accepted`, `forbidden`,
    `rejected`, `unavailable` or `failed`."""
    KIND: Final = "kind"
    """The report's kind (`call`, `text-sent`, `text-reply`, `campaign`)."""
    REASON: Final = "reason"
    """Why a body was refused (`body_too_large`, `not_well_formed`, ...)."""
    SMOKE: Final = "smoke"
    """Present (true) on the record of a smoke test's report (`make smoke`): it proves the
    receiver answers, not that CallFire sends, so it is left out of `ReportsReceived`."""


METRIC_DIMENSION_SETS: Final[dict[str, tuple[tuple[str, ...], ...]]] = dict.fromkeys(
    (
        Metric.REPORTS_RECEIVED,
        Metric.REPORTS_STORED,
        Metric.REPORTS_UPDATED,
        Metric.REPORTS_DUPLICATE,
        Metric.REPORTS_CONFLICTING,
        Metric.REQUESTS_FORBIDDEN,
        Metric.REPORTS_REFUSED,
        Metric.REPORTS_UNAVAILABLE,
        Metric.REPORTS_FAILED,
        Metric.RECORDINGS_QUEUED,
        Metric.RECORDINGS_NOT_QUEUED,
        Metric.RECORDINGS_COPIED,
        Metric.RECORDINGS_ALREADY_COPIED,
        Metric.RECORDINGS_FAILED,
        Metric.RECORDINGS_SKIPPED,
        Metric.RECORDINGS_RETRIED,
        Metric.RECORDING_JOBS_MALFORMED,
        Metric.RECORDING_BYTES_COPIED,
        Metric.EVENTS_PUBLISHED,
        Metric.EVENTS_NOT_PUBLISHED,
        Metric.EVENTS_TRIMMED,
        Metric.EVENTS_KEPT,
        Metric.LOW_BALANCE_EVENTS,
        Metric.WEBHOOKS_UNHEALTHY,
        Metric.WEBHOOKS_REPAIRED,
        Metric.OLDEST_UNSTORED_BODY_AGE,
    ),
    ((Dimension.SERVICE,),),
)
"""Every metric the functions publish, with the dimension sets it is published with: what alarms
and widgets may read, and what the bill counts (each name and dimension set is a custom metric,
$0.30 a month while it receives data). Every count is published once, for the whole service; the
split by kind and reason is read from the same EMF records (LogKey) with Logs Insights."""


class DetailType:
    """The `detail-type` of each event the receiver puts on its bus (docs/events.md)."""

    CALL_FINISHED: Final = "Call Finished"
    TEXT_SENT: Final = "Text Sent"
    TEXT_RECEIVED: Final = "Text Received"
    CAMPAIGN_STARTED: Final = "Campaign Started"
    CAMPAIGN_STOPPED: Final = "Campaign Stopped"
    CAMPAIGN_FINISHED: Final = "Campaign Finished"
    RECORDING_COPIED: Final = "Recording Copied"
    RECORDING_FAILED: Final = "Recording Failed"


class EventDetail:
    """What an event's `detail` adds to the item's attributes, and what it leaves out."""

    EVENT_ID: Final = "eventId"
    """Deterministic: the same fact always has the same id, so consumers can drop duplicates."""
    TABLE: Final = "table"
    """`calls` or `campaigns`."""
    INDEX: Final = "index"
    """A recording event: the entry's position in the item's `recordings`."""
    BUCKET: Final = "bucket"
    TRUNCATED: Final = "truncated"
    """The attributes left out to keep the event under EventBridge's size limit (largest first)."""
    LEFT_OUT: Final = (
        Item.RAW,
        Item.RAW_S3_KEY,
        Item.EXTRA,
        Item.DELIVERIES,
        Item.EXPIRES_AT,
        CampaignAttribute.POSTBACK_RAW,
        CampaignAttribute.POSTBACK_RAW_S3_KEY,
    )
    """The body (`raw`, or its key in the bucket when the body is kept there; on a campaign both
    generations reported, the legacy body too), the unrecognised elements, the delivery counter
    and the expiry (`reportRetentionDays`): bookkeeping, large, or changing without a new fact."""


STACK_NAME: Final = "CallfireReceiver"
"""The stack of the default stage: the name every deployment before stages had."""
DEFAULT_STAGE: Final = "prod"


def stack_name(stage: str) -> str:
    """`CallfireReceiver` for the default stage (the stack users already deployed keeps its
    name), `CallfireReceiver-<stage>` for any other."""
    return STACK_NAME if stage == DEFAULT_STAGE else f"{STACK_NAME}-{stage}"


def physical_name_prefix(stage: str) -> str:
    """What every explicit physical name starts with (`CallfireReceiver-prod-...`), so that two
    stages in one account and region never collide, whatever their stack names."""
    return f"{STACK_NAME}-{stage}"


CALLFIRE_DOMAIN: Final = "callfire.com"
DEFAULT_CALLFIRE_BASE_URL: Final = f"https://www.{CALLFIRE_DOMAIN}"
DEFAULT_CALLFIRE_V2_BASE_URL: Final = f"https://api.{CALLFIRE_DOMAIN}"
DEFAULT_MAX_BODY_BYTES: Final = 256 * 1024
NO_CAMPAIGN: Final = "no-campaign"
"""The `<campaignId>` segment of a recording's key when its report names no campaign."""
SMOKE_CAMPAIGN_ID: Final = "smoke"
SMOKE_CALL_ID_PREFIX: Final = "smoke-"
"""A call report with this campaign id and a call id with this prefix is a smoke test's
(`make smoke`): CallFire's campaign ids are numbers, so no real report looks like one."""
SMOKE_WEBHOOK_ID: Final = "0"
"""The webhook id of a smoke test's v2 delivery (CallFire's are positive numbers)."""
DEFAULT_RECORDING_MAX_BYTES: Final = 512 * 1024 * 1024
DEFAULT_RECORDING_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_RECORDING_READ_TIMEOUT: Final = 30.0
DEFAULT_RECORDING_MAX_RECEIVES: Final = 5
UNSTORED_ALARM_DAYS: Final = 7
"""A body waiting in `unstored/` longer than this raises the `UnstoredBodiesWaiting` alarm."""
SERVICE_NAME: Final = "callfire-receiver"
METRICS_NAMESPACE: Final = "CallFireReceiver"
DEFAULT_EVENT_SOURCE: Final = "callfire.receiver"
DEFAULT_EVENT_ARCHIVE_DAYS: Final = 30
DEFAULT_EVENTS_RETRY_SECONDS: Final = 20.0
