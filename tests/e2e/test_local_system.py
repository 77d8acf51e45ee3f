"""The whole system on this machine, started in-process on free ports and driven over real HTTP;
and proof that what it created is what the template declares."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.archive import archive_key
from functions.names import WEBHOOK_SUBSCRIPTIONS
from functions.postback.signature import signature_of
from functions.recordings import service as recordings_service
from functions.recordings.backoff import retry_delay
from local.bus import take_events
from local.callfire import Canned
from local.system import LocalSystem, Ports
from tests.events_out import validate_event
from tests.helpers import EVENTS, event_body
from tools import query
from tools.target import Target

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
CONTRACT_ENDPOINT_KEYS = {
    "endpoint_url",
    "region",
    "postback_url",
    "calls_table",
    "campaigns_table",
    "bucket",
    "recordings_queue",
    "callfire_url",
    "event_bus",
    "events_queue",
    "webhook_url",
    "webhook_secret",
    "report_retention_days",
    "hash_salt_secret",
}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    endpoints = tmp_path_factory.mktemp("local") / "endpoints.json"
    with LocalSystem(Ports.free(), endpoints_file=endpoints, stack_name="e2e-local") as running:
        yield running
    assert not endpoints.exists(), "stopping removes the endpoints file"


def post(
    url: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "text/xml", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def target(system: LocalSystem) -> Target:
    return system.target()


def fresh(body: bytes, old: bytes) -> tuple[bytes, str]:
    new = str(time.time_ns())[-12:]
    return body.replace(old, new.encode()), new


def test_endpoints_file_has_the_briefs_keys(system: LocalSystem, tmp_path: Path) -> None:
    assert set(system.endpoints) >= CONTRACT_ENDPOINT_KEYS
    assert system.endpoints["postback_url"].startswith(system.gateway.url + "/postbacks?token=")


@pytest.mark.parametrize(
    ("sample", "old_id", "event_type"),
    [
        ("call_finished.xml", b"111111", "call"),
        ("text_sent.xml", b"111111", "text-sent"),
        ("text_reply.xml", b"111111", "text-reply"),
    ],
)
def test_each_sample_is_stored_over_http(
    system: LocalSystem, sample: str, old_id: bytes, event_type: str
) -> None:
    body, call_id = fresh(event_body(sample), old_id)

    status, answer = post(system.endpoints["postback_url"], body)

    assert (status, answer["status"], answer["kind"]) == (200, "stored", event_type)
    (item,) = query.calls_by_id(target(system), call_id)
    assert item["eventType"] == event_type
    assert item["raw"] == body.decode()
    assert item["campaignId"] == "22222"
    assert item["phoneNumber"] == "2132212289"


def test_campaign_is_stored_over_http(system: LocalSystem) -> None:
    body, campaign_id = fresh(event_body("campaign_finished.xml"), b"22222")

    status, _ = post(system.endpoints["postback_url"], body)

    assert status == 200
    (item,) = [c for c in query.campaigns(target(system)) if c["campaignId"] == campaign_id]
    assert (item["cost"], item["currency"], item["noAnswer"]) == (2.25, "USD", 12)


def test_duplicate_over_http_is_one_item(system: LocalSystem) -> None:
    body, call_id = fresh(event_body("text_reply.xml"), b"111111")

    answers = [post(system.endpoints["postback_url"], body) for _ in range(3)]

    assert [answer["status"] for _, answer in answers] == ["stored", "duplicate", "duplicate"]
    (item,) = query.calls_by_id(target(system), call_id)
    assert item["deliveries"] == 3


def test_hostile_body_is_refused_and_archived(system: LocalSystem) -> None:
    body = event_body("xxe_file.xml")

    status, answer = post(system.endpoints["postback_url"], body)

    assert (status, answer["error"]) == (400, "forbidden_xml")
    listing = system.client("s3").list_objects_v2(
        Bucket=system.endpoints["bucket"], Prefix="rejected/"
    )
    suffix = archive_key("", time_now(), answer["requestId"])[len("2000/01/01") :]
    (key,) = [entry["Key"] for entry in listing["Contents"] if entry["Key"].endswith(suffix)]
    stored = system.client("s3").get_object(Bucket=system.endpoints["bucket"], Key=key)
    assert stored["Body"].read() == body
    assert stored["Metadata"]["reason"] == "forbidden_xml"


def time_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_a_report_sent_chunked_is_stored(system: LocalSystem) -> None:
    """Issue 13: a body streamed with `Transfer-Encoding: chunked` (urllib does so for an
    iterable body of unknown length, as Java and Go clients do) reached the handler empty and was
    answered `400 not_well_formed`; API Gateway delivers the whole body."""
    body, call_id = fresh(event_body("call_finished.xml"), b"111111")
    request = urllib.request.Request(
        system.endpoints["postback_url"],
        data=iter([body[:200], body[200:]]),
        method="POST",
        headers={"Content-Type": "text/xml"},
    )

    with urllib.request.urlopen(request, timeout=30) as response:
        status, answer = response.status, json.loads(response.read())

    assert request.get_header("Transfer-encoding") == "chunked"
    assert (status, answer["status"]) == (200, "stored")
    (item,) = query.calls_by_id(target(system), call_id)
    assert item["raw"] == body.decode()


def test_wrong_token_over_http_is_forbidden(system: LocalSystem) -> None:
    url = system.endpoints["postback_url"].split("?")[0] + "?token=guess"

    status, answer = post(url, event_body("call_minimal.xml"))

    assert (status, answer["error"]) == (403, "forbidden")


def test_the_postback_url_is_subscribed_with_the_stand_in_callfire(system: LocalSystem) -> None:
    subscriptions = system.callfire.subscriptions

    assert sorted(subscription.kind for subscription in subscriptions) == [
        "callfinish",
        "campaignfinish",
    ]
    for subscription in subscriptions:
        assert subscription.campaign_id is None
        assert subscription.api_key == "local-api-key"
        assert subscription.post_url == system.endpoints["postback_url"]
    subscribed = [done["Data"] for done in system.registrations if "Subscriptions" in done["Data"]]
    assert [data["Subscriptions"] for data in subscribed] == ["2"]


def test_the_stack_s_webhooks_are_registered_with_the_stand_in_callfire(
    system: LocalSystem,
) -> None:
    webhooks = list(system.callfire.webhooks.values())

    assert sorted(webhook["resource"] for webhook in webhooks) == sorted(WEBHOOK_SUBSCRIPTIONS)
    for webhook in webhooks:
        assert webhook["callback"] == system.endpoints["webhook_url"]
        assert webhook["secret"] == system.endpoints["webhook_secret"]
        assert (webhook["enabled"], webhook["singleUse"]) == (True, False)


def test_a_signed_delivery_is_stored_over_http(system: LocalSystem) -> None:
    sample = json.loads((EVENTS / "v2" / "outbound_text_finished.json").read_text())
    call_id = int(str(time.time_ns())[-12:])
    sample["events"][0]["resource"]["id"] = call_id
    body = json.dumps(sample).encode()
    signature = signature_of(system.endpoints["webhook_secret"], body)
    headers = {"Content-Type": "application/json", "X-CallFire-Signature": signature}

    status, answer = post(system.endpoints["webhook_url"], body, headers)
    forbidden, _ = post(
        system.endpoints["webhook_url"], body, {**headers, "X-CallFire-Signature": "x"}
    )

    assert (status, answer["outcomes"]) == (200, {"stored": 1})
    assert forbidden == 403
    item = system.client("dynamodb").get_item(
        TableName=system.endpoints["calls_table"],
        Key={"callId": {"S": str(call_id)}, "eventType": {"S": "text-sent"}},
    )["Item"]
    assert item["source"] == {"S": "v2-webhook"}


def test_the_stand_in_delivers_to_the_registered_webhook(system: LocalSystem) -> None:
    (event,) = json.loads((EVENTS / "v2" / "call_broadcast_finished.json").read_text())["events"]
    campaign_id = int(str(time.time_ns())[-12:])

    (sent,) = system.callfire.deliver(
        "CallBroadcast", "Finished", {**event["resource"], "id": campaign_id}, timestamp=1
    )

    assert (sent.status, json.loads(sent.answer)["status"]) == (200, "stored")
    item = system.client("dynamodb").get_item(
        TableName=system.endpoints["campaigns_table"], Key={"campaignId": {"S": str(campaign_id)}}
    )["Item"]
    assert item["campaignType"] == {"S": "CallBroadcast"}


def test_unknown_route_is_not_found_like_api_gateway(system: LocalSystem) -> None:
    status, answer = post(system.gateway.url + "/elsewhere", b"<x/>")

    assert (status, answer) == (404, {"message": "Not Found"})


def test_a_recording_is_copied_from_the_stand_in_callfire_into_the_bucket(
    system: LocalSystem,
) -> None:
    body, call_id = fresh(event_body("call_finished.xml"), b"111111")
    local_url = f"{system.callfire.url}/cloud/1/files/recording/{call_id}/mp3"
    body = body.replace(b"https://www.callfire.com/cloud/1/files/recording/", local_url.encode())

    status, _ = post(system.endpoints["postback_url"], body)

    assert status == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        (item,) = query.calls_by_id(target(system), call_id)
        if item["recordings"][0]["status"] != "PENDING":
            break
        time.sleep(0.2)
    (recording,) = item["recordings"]
    assert recording["status"] == "COPIED", recording
    assert recording["s3Key"] == f"recordings/22222/{call_id}/0.mp3"
    assert recording["contentType"] == "audio/mpeg"
    stored = system.client("s3").get_object(
        Bucket=system.endpoints["bucket"], Key=recording["s3Key"]
    )
    assert stored["Body"].read()[:3] == b"ID3"
    assert recording["bytes"] == stored["ContentLength"]


def recording_after_pending(system: LocalSystem, call_id: str) -> dict[str, Any]:
    """The call's recording entry once it is no longer PENDING (or when the wait is over)."""
    deadline = time.monotonic() + 60
    while True:
        (item,) = query.calls_by_id(target(system), call_id)
        (recording,) = item["recordings"]
        if recording["status"] != "PENDING" or time.monotonic() > deadline:
            return dict(recording)
        time.sleep(0.2)


README_SEND = re.compile(r"^curl .*@tests/events/call_finished\.xml.*$", re.MULTILINE)


def test_the_readmes_sample_report_reaches_copied(system: LocalSystem, tmp_path: Path) -> None:
    """The command docs/development.md (the README's "run it on your machine") prints, run as
    printed (from a folder laid out as the project's), posts CallFire's sample as it is: its
    recording URL is CallFire's own, which the local system serves from the stand-in CallFire
    (`RECORDING_STAND_INS`, never set by the stack)."""
    (command,) = README_SEND.findall((ROOT / "docs" / "development.md").read_text())
    for package in ("tools", "functions"):  # tools.endpoints reads the folder's .local
        shutil.copytree(ROOT / package, tmp_path / package)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    body, call_id = fresh(event_body("call_finished.xml"), b"111111")
    assert b"https://www.callfire.com/cloud/1/files/recording/" in body
    (tmp_path / "tests" / "events").mkdir(parents=True)
    (tmp_path / "tests" / "events" / "call_finished.xml").write_bytes(body)
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "endpoints.json").write_text(json.dumps(system.endpoints))

    sent = subprocess.run(
        ["/bin/bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=False
    )

    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["status"] == "stored"
    recording = recording_after_pending(system, call_id)
    assert recording["status"] == "COPIED", recording
    assert recording["s3Key"] == f"recordings/22222/{call_id}/0.wav"
    fetched = [r for r in system.callfire.requests if r.path == "/cloud/1/files/recording/"]
    assert fetched, "the stand-in served it"
    assert all(request.query["apikey"] == ["local-api-key"] for request in fetched)
    assert "RECORDING_STAND_INS" not in json.dumps(system.template)


def test_a_recording_callfire_never_serves_ends_failed_after_its_retries(
    system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt is answered 503. The back-off's delays are computed as always, but the
    message is made visible again at once (the passing of time, injected): after the queue's
    last attempt the entry is FAILED and the message is in the dead-letter queue."""
    delays: list[int] = []

    def no_wait(receive_count: int, max_receives: int, **options: Any) -> int:
        delays.append(retry_delay(receive_count, max_receives, **options))
        return 0

    monkeypatch.setattr(recordings_service, "retry_delay", no_wait)
    body, call_id = fresh(event_body("call_finished.xml"), b"111111")
    path = f"/cloud/1/files/recording/down-{call_id}"
    body = body.replace(b"/cloud/1/files/recording/", path.encode())
    system.callfire.answer("GET", path, Canned(status=503))

    assert post(system.endpoints["postback_url"], body)[1]["status"] == "stored"
    recording = recording_after_pending(system, call_id)

    assert recording["status"] == "FAILED", recording
    assert recording["reason"].startswith("not copied after 5 attempts: HTTP 503 from http")
    assert len([r for r in system.callfire.requests if r.path == path]) == 5
    assert len(delays) == 4
    assert all(delay > 0 for delay in delays)
    assert call_id in dead_letters(system)


def dead_letters(system: LocalSystem) -> list[str]:
    """The call ids of the recordings dead-letter queue's messages (taken off the queue)."""
    sqs, queue = system.client("sqs"), system.endpoints["dead_letter_queue"]
    found: list[str] = []
    deadline = time.monotonic() + 30
    while not found and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
            found.append(json.loads(message["Body"])["callId"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def events_for(system: LocalSystem, key: str, count: int) -> list[dict[str, Any]]:
    """The events about `key` on the local bus's watch queue, once `count` have arrived."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while len(found) < count and time.monotonic() < deadline:
        for event in take_events(
            system.client("sqs"), system.endpoints["events_queue"], wait_seconds=1
        ):
            if key in (event["detail"].get("callId"), event["detail"].get("campaignId")):
                found.append(validate_event(event))
    return found


def test_reports_over_http_are_events_on_the_local_bus(system: LocalSystem) -> None:
    body, call_id = fresh(event_body("text_reply.xml"), b"111111")
    local_url = f"{system.callfire.url}/cloud/1/files/recording/{call_id}/mp3"
    call = event_body("call_finished.xml").replace(b"111111", call_id.encode())
    call = call.replace(b"https://www.callfire.com/cloud/1/files/recording/", local_url.encode())
    for sent in (body, body, call):
        assert post(system.endpoints["postback_url"], sent)[0] == 200

    events = events_for(system, call_id, 3)

    assert sorted(event["detail-type"] for event in events) == [
        "Call Finished",
        "Recording Copied",
        "Text Received",
    ]
    time.sleep(1)
    assert events_for(system, call_id, 1) == [], "the duplicate made no event"


def tool_output(printed: str) -> str:
    """What a tool printed, less the functions' own log and EMF lines: the system's functions run
    in this process, and its stream consumers invoke the events function at any moment."""
    return "\n".join(line for line in printed.splitlines() if not line.startswith('{"'))


def test_query_tool_reads_the_local_system(
    system: LocalSystem, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    body, call_id = fresh(event_body("call_finished.xml"), b"111111")
    post(system.endpoints["postback_url"], body)
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(json.dumps(system.endpoints))

    assert query.main(["--endpoints", str(endpoints), "--json", "calls", "--id", call_id]) == 0
    printed = tool_output(capsys.readouterr().out)
    (item,) = json.loads(printed)
    assert (item["callId"], item["durationSeconds"], item["tags"]) == (
        call_id,
        35,
        ["sales number", "houston"],
    )
    assert "raw" not in item

    assert query.main(["--endpoints", str(endpoints), "calls", "--campaign", "22222"]) == 0
    table = tool_output(capsys.readouterr().out)
    assert table.splitlines()[0].split()[:3] == ["callId", "eventType", "campaignId"]
    assert call_id in table


def test_local_resources_match_the_template(system: LocalSystem) -> None:
    template = system.template["Resources"]
    dynamodb = system.client("dynamodb")
    for logical_id, resource in template.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        declared = resource["Properties"]
        table = dynamodb.describe_table(TableName=system.resources.refs[logical_id])["Table"]
        assert table["KeySchema"] == declared["KeySchema"]
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            declared["AttributeDefinitions"], key=str
        )
        assert {
            index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"])
            for index in table.get("GlobalSecondaryIndexes", [])
        } == {
            index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"])
            for index in declared.get("GlobalSecondaryIndexes", [])
        }
    sqs = system.client("sqs")
    for logical_id, resource in template.items():
        if resource["Type"] != "AWS::SQS::Queue":
            continue
        declared = resource["Properties"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=system.resources.refs[logical_id], AttributeNames=["All"]
        )["Attributes"]
        assert int(attributes["VisibilityTimeout"]) == declared.get("VisibilityTimeout", 30)
        if "RedrivePolicy" in declared:
            redrive = json.loads(attributes["RedrivePolicy"])
            dead_letter_id = declared["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert (
                redrive["deadLetterTargetArn"] == system.resources.attributes[dead_letter_id]["Arn"]
            )
            assert int(redrive["maxReceiveCount"]) == declared["RedrivePolicy"]["maxReceiveCount"]
    declared_functions = {
        logical_id: resource["Properties"]
        for logical_id, resource in template.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"]["Handler"].startswith("functions.")
    }
    assert set(system.runner.functions) == set(declared_functions)
    for logical_id, function in system.runner.functions.items():
        declared = declared_functions[logical_id]
        assert function.handler == declared["Handler"]
        assert set(function.environment) == set(declared["Environment"]["Variables"])
        assert all(os.environ[name] == value for name, value in function.environment.items())
    events = system.client("events")
    for logical_id, resource in template.items():
        if resource["Type"] == "AWS::Events::Archive":
            archive = events.describe_archive(ArchiveName=system.resources.refs[logical_id])
            assert archive["RetentionDays"] == resource["Properties"]["RetentionDays"]
            assert json.loads(archive["EventPattern"]) == resource["Properties"]["EventPattern"]
        if resource["Type"] == "AWS::DynamoDB::Table":
            table = dynamodb.describe_table(TableName=system.resources.refs[logical_id])["Table"]
            assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert system.resources.routes().keys() == {
        resource["Properties"]["RouteKey"]
        for resource in template.values()
        if resource["Type"] == "AWS::ApiGatewayV2::Route"
    }


def test_make_local_serves_until_interrupted(tmp_path: Path) -> None:
    """On ports 0: any free ones (port 0 once left the endpoints pointing at port 0)."""
    endpoints = tmp_path / "endpoints.json"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "local",
            "--moto-port", "0", "--gateway-port", "0", "--callfire-port", "0",
            "--endpoints-file", str(endpoints),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not endpoints.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert endpoints.exists(), "make local did not come up"
        written = json.loads(endpoints.read_text())
        assert set(written) >= CONTRACT_ENDPOINT_KEYS
        status, answer = post(written["postback_url"], event_body("call_minimal.xml"))
        assert (status, answer["status"]) == (200, "stored")
        time.sleep(1)
        assert process.poll() is None, "make local keeps serving"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Stopped." in output
    assert "postback URL" in output
    assert "Traceback" not in output
    assert not endpoints.exists()
    (request,) = [line for line in output.splitlines() if "POST /postbacks" in line]
    assert request.split()[3:7] == ["200", "stored", "call", "42"], request
    assert request.endswith(" ms")
    json_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert json_lines == [], "the readable log prints no JSON line"


def test_ctrl_c_while_starting_stops_without_a_traceback(tmp_path: Path) -> None:
    ports = Ports.free()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "local",
            "--moto-port", str(ports.moto), "--gateway-port", str(ports.gateway),
            "--callfire-port", str(ports.callfire),
            "--endpoints-file", str(tmp_path / "endpoints.json"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "synthesizing" in line:
            process.send_signal(signal.SIGINT)
            break
    output = "".join(lines) + process.communicate(timeout=60)[0]

    assert process.returncode == 130, output
    assert "Stopped before it was up." in output
    assert "Traceback" not in output


def test_make_demo_runs_from_start_to_finish() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "local.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "[7/7] stopping" in result.stdout
    assert "Demo finished" in result.stdout
    assert "My Campaign Name" in result.stdout
    for detail_type in ("Call Finished", "Text Sent", "Text Received", "Campaign Finished"):
        assert detail_type in result.stdout
    assert "Recording Copied" in result.stdout
    listed = result.stdout.split("make query ARGS='calls --campaign 22222 --full'")[1]
    listing = listed.split("\n\n")[0]
    assert "v2-webhook" in listing
    assert "COPIED recordings/22222/111111/0.wav" in listing, "whole items, not blank columns"
    assert "legacy-postback" in listing
    assert "1024990109003" in listing
    assert '"level":"INFO"' not in result.stdout + result.stderr, "the functions' lines are quiet"
