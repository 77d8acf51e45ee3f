"""The real recordings handler, fed by an emulated SQS event source from the moto queue built from
the template, copying from the stand-in CallFire over real HTTP into the moto bucket and table."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from functions.adapters.aws import aws_service
from functions.names import Env, Handler, Output
from functions.recordings.jobs import jobs_for
from functions.reports import CallReport, EventType
from functions.reports.items import Table, to_item
from local.callfire import Canned, StandInCallFire, mp3_bytes, wav_bytes
from local.faults import SilentServer, failing, hanging, hanging_call
from local.invoke import reset_function_state
from local.resources import ACCOUNT_ID, LocalResources
from tests.helpers import REGION, event_body, later, recording_queue, report_store
from tests.integration.conftest import PostbackClient
from tests.integration.event_source import Delivery, EventSource

HANDLER = Handler.RECORDINGS
API_KEY = "cf-apikey-5f0c2d9e71ab"
SECRET_NAME = "recordings-tests/callfire-api-key"
WAV_PATH = "/cloud/1/files/recording/{id}"
MP3_PATH = "/cloud/1/files/recording/{id}/mp3"

_deserializer = TypeDeserializer()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[StandInCallFire, StandInCallFire]]:
    with StandInCallFire() as callfire, StandInCallFire() as elsewhere:
        yield callfire, elsewhere


@pytest.fixture(scope="module")
def api_key_arn(aws: Callable[[str], Any]) -> str:
    """The user's own secret (the stack only references it): partial ARN, as the stack passes it."""
    aws("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=API_KEY)
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{SECRET_NAME}"


def port_of(server: StandInCallFire) -> int:
    return int(urlsplit(server.url).port or 0)


@dataclass
class Recordings:
    consumer: EventSource
    callfire: StandInCallFire
    elsewhere: StandInCallFire
    aws: Callable[[str], Any]
    outputs: dict[str, str]
    dead_letter_url: str
    baseline: dict[str, int]
    """Messages other tests left in flight (received, not deleted) before this one started."""

    @property
    def bucket(self) -> str:
        return self.outputs[Output.BUCKET]

    def report_call(
        self, *urls: str, campaign_id: str | None = "22222", call_id: str | None = None
    ) -> CallReport:
        """A call report stored and its recordings queued with the postback function's own
        adapters, exactly as it does."""
        report = CallReport(
            call_id=call_id or str(uuid.uuid4().int)[:12],
            event_type=EventType.CALL,
            campaign_id=campaign_id,
            phone_number="2132212289",
            disposition="LA",
            recording_urls=urls,
        )
        item = to_item(report, raw="<call-finished/>", received_at="2026-01-01T00:00:00.000Z")
        tables = {
            Table.CALLS: self.outputs[Output.CALLS_TABLE],
            Table.CAMPAIGNS: self.outputs[Output.CAMPAIGNS_TABLE],
        }
        store = report_store(self.aws, tables, self.outputs[Output.BUCKET])
        assert store.insert(item, deadline=later()) is None
        recording_queue(self.aws, self.consumer.queue_url).enqueue(
            jobs_for(report), deadline=later()
        )
        return report

    def deliver(self) -> Delivery:
        delivery = self.consumer.poll_once()
        assert delivery is not None, "no visible message"
        return delivery

    def item(self, report: CallReport) -> dict[str, Any]:
        response = self.aws("dynamodb").get_item(
            TableName=self.outputs[Output.CALLS_TABLE],
            Key={"callId": {"S": report.call_id}, "eventType": {"S": report.event_type.value}},
            ConsistentRead=True,
        )
        return {name: _deserializer.deserialize(v) for name, v in response["Item"].items()}

    def entries(self, report: CallReport) -> list[dict[str, Any]]:
        recordings: list[dict[str, Any]] = self.item(report)["recordings"]
        return recordings

    def object(self, key: str) -> tuple[bytes, str, dict[str, str]]:
        stored = self.aws("s3").get_object(Bucket=self.bucket, Key=key)
        return stored["Body"].read(), stored["ContentType"], stored["Metadata"]

    def versions(self, prefix: str) -> list[str]:
        listing = self.aws("s3").list_object_versions(Bucket=self.bucket, Prefix=prefix)
        return [version["Key"] for version in listing.get("Versions", [])]

    def visible_messages(self) -> int:
        attributes = self.aws("sqs").get_queue_attributes(
            QueueUrl=self.consumer.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def left_in(self, queue_url: str) -> int:
        """Messages of this test still in `queue_url`, visible or not."""
        return count_messages(self.aws("sqs"), queue_url) - self.baseline[queue_url]

    def make_visible(self, delivery: Delivery) -> None:
        """What the passing of the back-off delay would do."""
        for record in delivery.event["Records"]:
            self.aws("sqs").change_message_visibility(
                QueueUrl=self.consumer.queue_url,
                ReceiptHandle=record["receiptHandle"],
                VisibilityTimeout=0,
            )


@pytest.fixture
def recordings(
    resources: LocalResources,
    aws: Callable[[str], Any],
    servers: tuple[StandInCallFire, StandInCallFire],
    api_key_arn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Recordings]:
    callfire, elsewhere = servers
    callfire.reset()
    elsewhere.reset()
    function = resources.function_for_handler(HANDLER)
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(Env.RECORDING_LOOPBACK_ORIGINS, f"127.0.0.1:{port_of(callfire)}")
    # A careless allow-list: the address checks must refuse these all the same.
    monkeypatch.setenv(
        Env.RECORDING_HOSTS,
        function.environment[Env.RECORDING_HOSTS] + ",127.0.0.1,localhost,169.254.169.254,10.0.0.1",
    )
    monkeypatch.setenv(Env.CALLFIRE_BASE_URL, callfire.url)
    monkeypatch.setenv(Env.CALLFIRE_API_KEY_SECRET_ARN, api_key_arn)
    monkeypatch.setenv(Env.RECORDING_READ_TIMEOUT, "1")
    queue_url = function.environment[Env.RECORDINGS_QUEUE_URL]
    dead_letter_url = resources.outputs()[Output.DEAD_LETTER_QUEUE]
    for url in (queue_url, dead_letter_url):
        drain(aws("sqs"), url)
    baseline = {url: count_messages(aws("sqs"), url) for url in (queue_url, dead_letter_url)}
    reset_function_state()
    consumer = EventSource(resources, function, aws("sqs"), REGION)
    yield Recordings(
        consumer=consumer,
        callfire=callfire,
        elsewhere=elsewhere,
        aws=aws,
        outputs=resources.outputs(),
        dead_letter_url=dead_letter_url,
        baseline=baseline,
    )
    reset_function_state()
    for delivery in consumer.deliveries:
        for record in delivery.event["Records"]:
            with suppress(ClientError):
                aws("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])


def count_messages(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def drain(sqs: Any, queue_url: str) -> None:
    """Delete every visible message (SQS allows one purge a minute, and moto enforces it)."""
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages"
    ):
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@contextmanager
def captured(service: str, operation: str) -> Iterator[list[dict[str, Any]]]:
    """The parameters of every `operation` call the handler's own `service` client makes."""
    client = aws_service(service).client()
    calls: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    event = f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, capture, unique_id=f"capture-{operation}")
    try:
        yield calls
    finally:
        client.meta.events.unregister(event, unique_id=f"capture-{operation}")


def test_wav_and_mp3_land_in_the_bucket_and_on_the_item(recordings: Recordings) -> None:
    wav = recordings.callfire.url + WAV_PATH.format(id=1)
    mp3 = recordings.callfire.url + MP3_PATH.format(id=2)
    report = recordings.report_call(wav, mp3)
    before = recordings.item(report)

    delivery = recordings.deliver()

    assert delivery.failed_ids == []
    assert len(delivery.message_ids) == 2
    stem = f"recordings/22222/{report.call_id}"
    assert recordings.object(f"{stem}/0.wav")[:2] == (wav_bytes(), "audio/x-wav")
    assert recordings.object(f"{stem}/1.mp3")[:2] == (mp3_bytes(), "audio/mpeg")
    assert recordings.entries(report) == [
        {
            "url": wav,
            "status": "COPIED",
            "s3Key": f"{stem}/0.wav",
            "contentType": "audio/x-wav",
            "bytes": len(wav_bytes()),
        },
        {
            "url": mp3,
            "status": "COPIED",
            "s3Key": f"{stem}/1.mp3",
            "contentType": "audio/mpeg",
            "bytes": len(mp3_bytes()),
        },
    ]
    after = recordings.item(report)
    assert {k: v for k, v in after.items() if k != "recordings"} == {
        k: v for k, v in before.items() if k != "recordings"
    }
    assert [r.query for r in recordings.callfire.requests] == [{"apikey": [API_KEY]}] * 2
    assert recordings.left_in(recordings.consumer.queue_url) == 0


def test_a_postback_recording_is_copied_end_to_end(
    recordings: Recordings, postback: PostbackClient
) -> None:
    call_id = str(uuid.uuid4().int)[:12]
    url = recordings.callfire.url + WAV_PATH.format(id=77)
    body = (
        event_body("call_finished.xml")
        .replace(b"111111", call_id.encode())
        .replace(b"https://www.callfire.com/cloud/1/files/recording/", url.encode())
    )

    assert postback.post(body).status == 200
    delivery = recordings.deliver()

    assert delivery.failed_ids == []
    report = CallReport(call_id=call_id, event_type=EventType.CALL)
    (entry,) = recordings.entries(report)
    assert entry["status"] == "COPIED"
    assert entry["s3Key"] == f"recordings/22222/{call_id}/0.wav"


def test_a_report_without_a_campaign_lands_under_no_campaign(recordings: Recordings) -> None:
    report = recordings.report_call(
        recordings.callfire.url + WAV_PATH.format(id=3), campaign_id=None
    )

    recordings.deliver()

    (entry,) = recordings.entries(report)
    assert entry["s3Key"] == f"recordings/no-campaign/{report.call_id}/0.wav"


def test_a_message_delivered_twice_makes_one_object_and_one_entry(
    recordings: Recordings,
) -> None:
    report = recordings.report_call(recordings.callfire.url + WAV_PATH.format(id=4))
    recordings.deliver()
    copied = recordings.item(report)

    queue = recording_queue(recordings.aws, recordings.consumer.queue_url)
    queue.enqueue(jobs_for(report), deadline=later())
    queue.enqueue(jobs_for(report), deadline=later())
    again = recordings.deliver()

    assert again.failed_ids == []
    assert len(again.message_ids) == 2
    assert recordings.item(report) == copied
    assert recordings.versions(f"recordings/22222/{report.call_id}/") == [
        f"recordings/22222/{report.call_id}/0.wav"
    ]
    assert len(recordings.callfire.requests) == 1


def test_a_copy_interrupted_before_the_item_update_finishes_without_a_second_version(
    recordings: Recordings,
) -> None:
    report = recordings.report_call(recordings.callfire.url + MP3_PATH.format(id=5))
    key = f"recordings/22222/{report.call_id}/0.mp3"

    with failing("dynamodb", "UpdateItem", "ProvisionedThroughputExceededException"):
        first = recordings.deliver()
    assert first.failed_ids == first.message_ids
    assert recordings.entries(report)[0]["status"] == "PENDING"
    assert recordings.versions(key) == [key]

    recordings.make_visible(first)
    second = recordings.deliver()

    assert second.failed_ids == []
    assert recordings.entries(report)[0]["s3Key"] == key
    assert recordings.versions(key) == [key], "fetched again, but the first object is kept"
    assert len(recordings.callfire.requests) == 2


def test_redirects_to_allowed_places_are_followed(recordings: Recordings) -> None:
    recordings.callfire.answer(
        "GET", "/r/moved", Canned(status=302, headers={"Location": MP3_PATH.format(id=6)})
    )
    report = recordings.report_call(recordings.callfire.url + "/r/moved")

    recordings.deliver()

    (entry,) = recordings.entries(report)
    assert (entry["status"], entry["contentType"]) == ("COPIED", "audio/mpeg")
    assert recordings.object(entry["s3Key"])[0] == mp3_bytes()


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://127.0.0.1:{other}/r", "only https URLs are fetched"),
        ("https://127.0.0.1:{other}/r", "127.0.0.1 is not a public address"),
        ("https://localhost:{other}/r", "is not a public address"),
        ("http://169.254.169.254/latest/meta-data/", "only https URLs are fetched"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is not a public address"),
        ("https://10.0.0.1/r", "10.0.0.1 is not a public address"),
        ("https://evil.example/r", "evil.example is not on recordingHosts"),
    ],
)
def test_redirects_to_forbidden_places_fail_the_recording_unrequested(
    recordings: Recordings, location: str, reason: str
) -> None:
    target = location.format(other=port_of(recordings.elsewhere))
    recordings.callfire.answer("GET", "/r/moved", Canned(status=302, headers={"Location": target}))
    report = recordings.report_call(recordings.callfire.url + "/r/moved")

    delivery = recordings.deliver()

    assert delivery.failed_ids == []
    (entry,) = recordings.entries(report)
    assert entry["status"] == "FAILED"
    assert reason in entry["reason"]
    assert "s3Key" not in entry
    assert recordings.elsewhere.requests == []
    assert recordings.versions(f"recordings/22222/{report.call_id}/") == []


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/cloud/1/files/recording/1",
        "http://www.callfire.com/cloud/1/files/recording/1",
        "https://user:secret@www.callfire.com/r",
        "ftp://www.callfire.com/r",
    ],
)
def test_urls_outside_the_policy_fail_at_once_and_are_never_requested(
    recordings: Recordings, url: str
) -> None:
    report = recordings.report_call(url)

    delivery = recordings.deliver()

    assert delivery.failed_ids == []
    (entry,) = recordings.entries(report)
    assert entry["status"] == "FAILED"
    assert entry["reason"]
    assert recordings.callfire.requests == []
    assert recordings.left_in(recordings.consumer.queue_url) == 0


@pytest.mark.parametrize("status", [403, 404])
def test_missing_or_forbidden_recordings_fail_at_once(recordings: Recordings, status: int) -> None:
    path = WAV_PATH.format(id=status)
    recordings.callfire.answer("GET", path, Canned(status=status))
    report = recordings.report_call(recordings.callfire.url + path)

    delivery = recordings.deliver()

    assert delivery.failed_ids == []
    (entry,) = recordings.entries(report)
    assert entry["status"] == "FAILED"
    assert entry["reason"] == f"HTTP {status} from {recordings.callfire.url}{path}"
    assert recordings.left_in(recordings.consumer.queue_url) == 0
    assert recordings.left_in(recordings.dead_letter_url) == 0


def test_an_error_page_answered_with_200_is_not_stored(recordings: Recordings) -> None:
    path = WAV_PATH.format(id=200)
    recordings.callfire.answer(
        "GET", path, Canned(body=b"<error>bad key</error>", headers={"Content-Type": "text/xml"})
    )
    report = recordings.report_call(recordings.callfire.url + path)

    recordings.deliver()

    (entry,) = recordings.entries(report)
    assert (entry["status"], entry["reason"]) == (
        "FAILED",
        "the answer is text/xml, not a recording",
    )
    assert recordings.versions(f"recordings/22222/{report.call_id}/") == []


def test_a_server_error_backs_off_through_the_queue_then_succeeds(recordings: Recordings) -> None:
    path = WAV_PATH.format(id=500)
    recordings.callfire.answer("GET", path, Canned(status=500, times=1))
    report = recordings.report_call(recordings.callfire.url + path)

    with captured("sqs", "ChangeMessageVisibility") as hidden:
        first = recordings.deliver()

    assert first.failed_ids == first.message_ids
    assert recordings.entries(report)[0]["status"] == "PENDING"
    (change,) = hidden
    assert change["ReceiptHandle"] == first.event["Records"][0]["receiptHandle"]
    assert 48 <= change["VisibilityTimeout"] <= 60
    assert recordings.consumer.poll_once() is None

    recordings.make_visible(first)
    second = recordings.deliver()

    assert second.failed_ids == []
    assert second.event["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert recordings.entries(report)[0]["status"] == "COPIED"


def test_throttling_waits_at_least_as_long_as_retry_after(recordings: Recordings) -> None:
    path = WAV_PATH.format(id=429)
    recordings.callfire.answer(
        "GET", path, Canned(status=429, headers={"Retry-After": "300"}, times=1)
    )
    recordings.report_call(recordings.callfire.url + path)

    with captured("sqs", "ChangeMessageVisibility") as hidden:
        delivery = recordings.deliver()

    assert delivery.failed_ids == delivery.message_ids
    assert [change["VisibilityTimeout"] for change in hidden] == [300]


def test_a_slow_answer_times_out_and_is_retried(recordings: Recordings) -> None:
    """The answer would come after 3 s, and would then be copied; the read timeout (1 s) ends
    the wait first, so the message fails and the recording stays PENDING."""
    path = WAV_PATH.format(id=408)
    recordings.callfire.answer("GET", path, Canned(body=wav_bytes(), delay=3, times=1))
    report = recordings.report_call(recordings.callfire.url + path)

    delivery = recordings.deliver()

    assert delivery.failed_ids == delivery.message_ids
    assert recordings.entries(report)[0]["status"] == "PENDING"


def test_a_recording_over_the_limit_fails_and_leaves_no_upload_behind(
    recordings: Recordings, monkeypatch: pytest.MonkeyPatch
) -> None:
    mib = 1024 * 1024
    monkeypatch.setenv(Env.RECORDING_MAX_BYTES, str(12 * mib))
    streamed = recordings.callfire.add_recording(
        "/r/huge", lambda: iter([b"\x80" * mib] * 16), "audio/x-wav"
    )
    declared = recordings.callfire.add_recording("/r/declared", b"\x80" * (13 * mib), "audio/x-wav")
    report = recordings.report_call(streamed, declared)

    delivery = recordings.deliver()

    assert delivery.failed_ids == []
    assert [(e["status"], e["reason"]) for e in recordings.entries(report)] == [
        ("FAILED", f"the recording is larger than {12 * mib} bytes"),
        ("FAILED", f"the recording is {13 * mib} bytes; at most {12 * mib} are copied"),
    ]
    assert recordings.versions(f"recordings/22222/{report.call_id}/") == []
    uploads = recordings.aws("s3").list_multipart_uploads(Bucket=recordings.bucket)
    assert [u["Key"] for u in uploads.get("Uploads", []) if report.call_id in u["Key"]] == []


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("s3", "PutObject", "SlowDown"),
        ("dynamodb", "GetItem", "ThrottlingException"),
        ("dynamodb", "UpdateItem", "ProvisionedThroughputExceededException"),
        ("secretsmanager", "GetSecretValue", "InternalServiceError"),
    ],
)
def test_aws_failures_are_transient(
    recordings: Recordings, service: str, operation: str, code: str, log_output: list[str]
) -> None:
    report = recordings.report_call(recordings.callfire.url + WAV_PATH.format(id=9))

    with failing(service, operation, code):
        delivery = recordings.deliver()

    assert delivery.failed_ids == delivery.message_ids
    assert recordings.entries(report)[0]["status"] == "PENDING"
    assert any(code in line and "the queue retries it" in line for line in log_output)


def test_a_batch_reports_exactly_the_messages_to_retry(recordings: Recordings) -> None:
    recordings.callfire.answer("GET", "/r/busy", Canned(status=503))
    recordings.callfire.answer("GET", "/r/gone", Canned(status=404))
    fine = recordings.report_call(recordings.callfire.url + WAV_PATH.format(id=10))
    busy = recordings.report_call(recordings.callfire.url + "/r/busy")
    gone = recordings.report_call(recordings.callfire.url + "/r/gone")

    delivery = recordings.deliver()

    by_call = {
        json.loads(record["body"])["callId"]: record["messageId"]
        for record in delivery.event["Records"]
    }
    assert len(by_call) == 3
    assert delivery.failed_ids == [by_call[busy.call_id]]
    assert recordings.entries(fine)[0]["status"] == "COPIED"
    assert recordings.entries(busy)[0]["status"] == "PENDING"
    assert recordings.entries(gone)[0]["status"] == "FAILED"
    assert recordings.left_in(recordings.consumer.queue_url) == 1


def test_a_recording_that_keeps_failing_ends_in_the_dead_letter_queue(
    recordings: Recordings,
) -> None:
    recordings.callfire.answer("GET", "/r/down", Canned(status=503))
    report = recordings.report_call(recordings.callfire.url + "/r/down")
    delays = []

    for attempt in range(1, 6):
        with captured("sqs", "ChangeMessageVisibility") as hidden:
            delivery = recordings.deliver()
        assert delivery.failed_ids == delivery.message_ids
        assert delivery.event["Records"][0]["attributes"]["ApproximateReceiveCount"] == str(attempt)
        delays.append(hidden[0]["VisibilityTimeout"])
        if attempt < 5:
            recordings.make_visible(delivery)

    assert delays[-1] == 0
    assert all(early > 0 for early in delays[:-1])
    assert recordings.consumer.poll_once() is None
    dead = recordings.aws("sqs").receive_message(QueueUrl=recordings.dead_letter_url)["Messages"]
    assert [json.loads(m["Body"])["callId"] for m in dead] == [report.call_id]
    (entry,) = recordings.entries(report)
    assert entry["status"] == "FAILED"
    assert entry["reason"].startswith("not copied after 5 attempts: HTTP 503 from http://127.0.0.1")


def test_a_malformed_message_is_reported_and_not_hidden(recordings: Recordings) -> None:
    recordings.aws("sqs").send_message(
        QueueUrl=recordings.consumer.queue_url, MessageBody='{"callId": "1"}'
    )

    with captured("sqs", "ChangeMessageVisibility") as hidden:
        delivery = recordings.deliver()

    assert delivery.failed_ids == delivery.message_ids
    assert [change["VisibilityTimeout"] for change in hidden] == [0]


def test_a_job_whose_entry_is_gone_is_dropped_unrequested(recordings: Recordings) -> None:
    url = recordings.callfire.url + WAV_PATH.format(id=11)
    report = CallReport(call_id="no-such-call", event_type=EventType.CALL, recording_urls=(url,))
    recording_queue(recordings.aws, recordings.consumer.queue_url).enqueue(
        jobs_for(report), deadline=later()
    )

    delivery = recordings.deliver()

    assert delivery.failed_ids == []
    assert recordings.callfire.requests == []


def test_the_api_key_is_sent_to_callfire_but_never_logged_or_stored(
    recordings: Recordings, log_output: list[str]
) -> None:
    recordings.callfire.answer("GET", "/r/nope", Canned(status=404))
    recordings.callfire.answer("GET", "/r/busy", Canned(status=503))
    fine = recordings.report_call(recordings.callfire.url + WAV_PATH.format(id=12))
    nope = recordings.report_call(recordings.callfire.url + f"/r/nope?apikey={API_KEY}")
    busy = recordings.report_call(recordings.callfire.url + "/r/busy")

    recordings.deliver()

    assert all(r.query.get("apikey") == [API_KEY] for r in recordings.callfire.requests)
    assert len(recordings.callfire.requests) == 3
    assert log_output
    assert not [line for line in log_output if API_KEY in line]
    for report in (fine, nope, busy):
        entry = recordings.entries(report)[0]
        assert API_KEY not in json.dumps(
            {k: v for k, v in entry.items() if k != "url"}, default=str
        )
    assert "apikey=***" in recordings.entries(nope)[0]["reason"]
    _, _, metadata = recordings.object(recordings.entries(fine)[0]["s3Key"])
    assert API_KEY not in json.dumps(metadata)


def test_an_unreadable_api_key_retries_later(
    recordings: Recordings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        Env.CALLFIRE_API_KEY_SECRET_ARN,
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:no-such-secret",
    )
    report = recordings.report_call(recordings.callfire.url + WAV_PATH.format(id=13))

    delivery = recordings.deliver()

    assert delivery.failed_ids == delivery.message_ids
    assert recordings.entries(report)[0]["status"] == "PENDING"
    assert recordings.callfire.requests == []


def test_a_failed_recording_is_copied_when_its_job_is_sent_again(recordings: Recordings) -> None:
    path = WAV_PATH.format(id=410)
    recordings.callfire.answer("GET", path, Canned(status=404, times=1))
    report = recordings.report_call(recordings.callfire.url + path)
    recordings.deliver()
    assert recordings.entries(report)[0]["status"] == "FAILED"

    recording_queue(recordings.aws, recordings.consumer.queue_url).enqueue(
        jobs_for(report), deadline=later()
    )
    recordings.deliver()

    (entry,) = recordings.entries(report)
    assert entry["status"] == "COPIED"
    assert "reason" not in entry


HANG_TIMEOUT_SECONDS = 22
"""The invocation's time in the hang tests: what the copy keeps back for its bookkeeping
(abort, entry, back-off: RESERVE_SECONDS) and its answer, plus a few seconds of transfer."""


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def assert_answered_in_time(delivery: Delivery) -> None:
    """The batch was answered before Lambda's timeout, with the message failed (so SQS keeps it
    and brings it back after its back-off), never lost with the invocation."""
    assert delivery.context.get_remaining_time_in_millis() > 0
    assert delivery.failed_ids == delivery.message_ids


@pytest.mark.e2e
def test_a_download_that_never_answers_ends_as_a_retry_in_time(
    recordings: Recordings, silent: SilentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read timeout (30 s) is longer than the invocation: the deadline ends the wait."""
    silent_origin = urlsplit(silent.url).netloc
    monkeypatch.setenv(
        Env.RECORDING_LOOPBACK_ORIGINS, f"127.0.0.1:{port_of(recordings.callfire)},{silent_origin}"
    )
    monkeypatch.setenv(Env.RECORDING_READ_TIMEOUT, "30")
    reset_function_state()
    report = recordings.report_call(f"{silent.url}/cloud/1/files/recording/1")
    recordings.consumer.timeout_seconds = HANG_TIMEOUT_SECONDS

    with captured("sqs", "ChangeMessageVisibility") as hidden:
        delivery = recordings.deliver()

    assert_answered_in_time(delivery)
    assert silent.connections == 1
    assert recordings.entries(report)[0]["status"] == "PENDING"
    assert [change["VisibilityTimeout"] > 0 for change in hidden] == [True]


@pytest.mark.e2e
def test_an_s3_part_upload_that_never_answers_ends_as_a_retry_with_no_object(
    recordings: Recordings, silent: SilentServer, log_output: list[str]
) -> None:
    path = "/cloud/1/files/recording/9001"
    recordings.callfire.answer("GET", path, Canned(body=wav_bytes(seconds=1100)))
    report = recordings.report_call(recordings.callfire.url + path)
    recordings.consumer.timeout_seconds = HANG_TIMEOUT_SECONDS

    with hanging_call("s3", "UploadPart", silent, when=lambda p: p["PartNumber"] == 2) as hung:
        delivery = recordings.deliver()

    assert_answered_in_time(delivery)
    assert hung, "the second part was sent to the silent endpoint"
    key = f"recordings/22222/{report.call_id}/"
    assert recordings.versions(key) == []
    uploads = recordings.aws("s3").list_multipart_uploads(Bucket=recordings.bucket, Prefix=key)
    assert uploads.get("Uploads", []) == [], "the upload was aborted"
    assert recordings.entries(report)[0]["status"] == "PENDING"
    lines = [json.loads(line) for line in log_output]
    (part,) = [line for line in lines if line.get("operation") == "upload_part"]
    assert all(attempt["seconds"] <= attempt["left"] for attempt in part["attempts"])


@pytest.mark.e2e
def test_dynamodb_and_sqs_hanging_end_as_a_retry_in_time(
    recordings: Recordings, silent: SilentServer
) -> None:
    """The entry cannot be read, and the message cannot be hidden for its back-off: it fails in
    the batch answer, so SQS brings it back after the queue's own visibility timeout."""
    report = recordings.report_call(recordings.callfire.url + WAV_PATH.format(id=77))
    recordings.consumer.timeout_seconds = HANG_TIMEOUT_SECONDS

    with hanging("dynamodb", silent), hanging("sqs", silent):
        delivery = recordings.deliver()

    assert_answered_in_time(delivery)
    assert silent.connections >= 2
    assert recordings.entries(report)[0]["status"] == "PENDING"
    assert recordings.callfire.requests == []
