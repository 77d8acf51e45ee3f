"""Small helpers the tests share."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.progress import Progress

REGION = "us-east-1"
EVENTS = Path(__file__).parent / "events"
CUSTOMER_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STEWARDED_CONTEXT = {
    "kmsKeyArn": CUSTOMER_KEY_ARN,
    "reportRetentionDays": 30,
    "recordingRetentionDays": 90,
    "rejectedRetentionDays": 14,
    "callfireApiKeySecretName": "callfire/api-key",
}
"""Every data-stewardship setting on at once (with the registration, whose role reads a secret):
one synth that the infra and integration tests of retention and customer keys share."""


def event_body(name: str) -> bytes:
    """A sample event from `tests/events`, as bytes exactly as stored."""
    return (EVENTS / name).read_bytes()


def v2_event(name: str, **resource: Any) -> dict[str, Any]:
    """The first event of a v2 sample delivery (`tests/events/v2`), its resource changed by
    `resource`."""
    event: dict[str, Any] = json.loads((EVENTS / "v2" / name).read_text())["events"][0]
    event["resource"] = {**event["resource"], **resource}
    return event


def v2_body(*events: Any, webhook_id: int = 9) -> bytes:
    """A v2 delivery of `events` (anything JSON, so that a test may send a malformed one), as
    CallFire sends it."""
    return json.dumps({"timestamp": 1, "webhookId": webhook_id, "events": list(events)}).encode()


def documented_call_item(call_id: str = "111111") -> dict[str, object]:
    """The item the document's call sample makes (what is parsed; `raw`, `receivedAt` and
    `deliveries` are the caller's to add)."""
    return {
        "callId": call_id,
        "eventType": "call",
        "campaignId": "22222",
        "phoneNumber": "2132212289",
        "dnis": "8778973473",
        "tags": ["sales number", "houston"],
        "disposition": "TRANSFER",
        "durationSeconds": 35,
        "callStart": "2010-03-24T15:58:18",
        "responseTime": "2010-03-24T15:58:38",
        "notes": "notes that a call center campaign will add to a call.",
        "extraData": "additional data uploaded with the phone number",
        "agentId": "21212",
        "agentResponse": "interested",
        "storedData": {"bigconcern": "economy", "willvote": "yes"},
        "recordings": [
            {"url": "https://www.callfire.com/cloud/1/files/recording/", "status": "PENDING"}
        ],
        "source": "legacy-postback",
    }


def later(seconds: float = 60.0) -> float:
    """A deadline (time.monotonic()) for the calls a test makes through the functions' adapters."""
    return time.monotonic() + seconds


def report_store(client: Callable[[str], Any], tables: dict[Any, str], bucket: str) -> Any:
    """The postback function's report store over the test's own clients."""
    from functions.adapters.aws import AwsService
    from functions.adapters.dynamodb import DynamoReportStore
    from functions.adapters.raw_bodies import S3RawBodies

    return DynamoReportStore(
        AwsService.over(client("dynamodb")),
        tables,
        S3RawBodies(AwsService.over(client("s3")), bucket),
    )


def recording_queue(client: Callable[[str], Any], queue_url: str) -> Any:
    """The postback function's recordings queue over the test's own client."""
    from functions.adapters.aws import AwsService
    from functions.adapters.queue import SqsRecordingQueue

    return SqsRecordingQueue(AwsService.over(client("sqs")), queue_url)


def new_id() -> str:
    """A call or campaign id no other test uses (the tests of a session share one moto)."""
    return str(uuid.uuid4().int)[:12]


def quiet(label: str, total: int) -> Progress:
    """A tool's progress bar that writes nowhere."""
    return Progress(label, total, stream=io.StringIO())
