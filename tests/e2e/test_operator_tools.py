"""`make smoke` and `make status` against the whole local system, over real HTTP: the smoke test
passes, fails with a useful line when the token is wrong or nothing answers, and `make status`
shows the demo's reports; each ACTION line's command, run as printed, does what it says."""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from functions.names import LocalEndpoint, Output, RecordingStatus, Route
from local.callfire import Canned
from local.demo import QUIET, post
from local.faults import failing
from local.system import LocalSystem, Ports, free_port
from tests.helpers import event_body
from tools import query, smoke, status, target
from tools.smoke import signature_of

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PYTHON = ".venv/bin/python"
"""What the Makefile runs the tools with (it echoes the command)."""
DEMO_KINDS = {"call": 2, "text-sent": 2, "text-reply": 1, "campaign": 2}
"""The demo's legacy reports and its v2 call, text and broadcast."""


@dataclass
class Running:
    system: LocalSystem
    endpoints: Path
    screen: str
    """`make status` as printed right after the demo's reports were sent."""
    answer: dict[str, Any]
    """`status --json` at the same moment."""


def run_tool(tool: Any, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = tool.main(list(argv))
    return code, out.getvalue()


def make(command: str) -> subprocess.CompletedProcess[str]:
    """A `make ...` line exactly as a tool printed it, run from the project's folder; its
    output less the line make echoes."""
    words = shlex.split(command)
    assert words[0] == "make", command
    executable = shutil.which("make")
    assert executable, "the commands are printed for make"
    result = subprocess.run(
        [executable, "--no-print-directory", *words[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    echoed = f"{PYTHON} -m "
    result.stdout = "".join(
        text for text in result.stdout.splitlines(keepends=True) if not text.startswith(echoed)
    )
    return result


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """`make local` with the demo's reports sent to it (`make demo ARGS=--running`), and
    `make status` read at once, before any other test adds reports."""
    endpoints = tmp_path_factory.mktemp("operator") / "endpoints.json"
    with LocalSystem(
        Ports.free(), endpoints_file=endpoints, stack_name="e2e-operator", extra_environment=QUIET
    ) as system:
        sent = make(f'make demo ARGS="--running --endpoints {endpoints}"')
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert sent.stdout.count("-> 200 ") == 8, sent.stdout
        wait_until_no_recording_is(system, RecordingStatus.PENDING)
        shown = make(f'make status ARGS="--endpoints {endpoints}"')
        assert shown.returncode == 0, shown.stdout + shown.stderr
        code, printed = run_tool(status, "--endpoints", str(endpoints), "--json")
        assert code == 0
        yield Running(system, endpoints, shown.stdout, json.loads(printed))


def wait_until_no_recording_is(system: LocalSystem, state: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        items = target.items(
            system.client("dynamodb"), "scan", TableName=system.target().calls_table
        )
        if all(entry["status"] != state for item in items for entry in item.get("recordings", [])):
            return
        time.sleep(0.2)
    raise AssertionError(f"recordings still {state} after {seconds} s")


def checks(answer: dict[str, Any], topic: str) -> list[dict[str, Any]]:
    return [check for check in answer["checks"] if check["topic"] == topic]


def line(screen: str, topic: str) -> str:
    (found,) = [text for text in screen.splitlines() if f" {topic} " in text]
    return found


def with_endpoints(running: Running, **changes: str) -> Path:
    path = running.endpoints.with_name(f"changed-{uuid.uuid4().hex[:8]}.json")
    path.write_text(json.dumps({**running.system.endpoints, **changes}))
    return path


# make status: the demo's reports


def test_make_status_shows_the_demo_s_reports(running: Running) -> None:
    screen = running.screen

    assert "ok     last 24 h      7 reports: call 2, campaign 2, text-reply 1, text-sent 2" in (
        screen
    )
    assert line(screen, "last report").split()[0] == "ok"
    subscription = line(screen, "subscription")
    assert subscription.split()[0] == "ok"
    assert f"callfinish, campaignfinish (account-wide) at {running.system.callfire.url}" in (
        subscription
    )
    assert "stage prod" in line(screen, "stack")
    assert "0 PENDING, 0 FAILED" in line(screen, "recordings")
    assert line(screen, "alarms").split()[0] == "?"
    assert screen.rstrip().endswith("Nothing needs a person.")


def test_status_json_shows_the_demo_s_reports(running: Running) -> None:
    answer = running.answer

    assert answer["needsAction"] is False
    assert answer["stage"] == "prod"
    (recent,) = checks(answer, "last 24 h")
    assert recent["data"] == {"total": 7, "byKind": DEMO_KINDS}
    (subscription,) = checks(answer, "subscription")
    assert subscription["data"]["record"]["result"] == "subscribed"
    (alarms,) = checks(answer, "alarms")
    assert alarms["state"] == "unknown"
    assert {check["state"] for check in answer["checks"]} <= {"ok", "info", "unknown"}


# make smoke


def test_make_smoke_passes_against_make_local(running: Running) -> None:
    result = make(f'make smoke ARGS="--endpoints {running.endpoints}"')

    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[0].startswith("smoke test of local, stage prod")
    steps = [text.split()[0] for text in lines[1:-1]]
    assert steps == ["PASS"] * 8, result.stdout
    assert lines[-1] == "smoke test passed"


def test_smoke_json_passes_and_leaves_nothing_behind(running: Running) -> None:
    code, printed = run_tool(smoke, "--endpoints", str(running.endpoints), "--json")
    answer = json.loads(printed)

    assert code == 0
    assert answer["passed"] is True
    assert [step["step"] for step in answer["steps"]] == [
        "no token",
        "stored",
        "read back",
        "delivered again",
        "nothing else",
        "cleaned up",
        "v2 webhook",
        "v2 cleaned up",
    ]
    assert query.calls_by_id(running.system.target(), answer["callId"]) == []
    _, after = run_tool(status, "--endpoints", str(running.endpoints), "--json")
    (recent,) = checks(json.loads(after), "last 24 h")
    assert recent["data"]["byKind"].get("call") == DEMO_KINDS["call"], "smoke is not counted"


def test_smoke_with_a_wrong_token_fails_with_a_useful_line(running: Running) -> None:
    url = running.system.endpoints[LocalEndpoint.POSTBACK_URL].split("?")[0]
    wrong = with_endpoints(running, postback_url=f"{url}?{Route.TOKEN_PARAMETER}=not-the-token")

    code, printed = run_tool(smoke, "--endpoints", str(wrong))
    json_code, json_printed = run_tool(smoke, "--endpoints", str(wrong), "--json")

    assert code == 1
    lines = printed.splitlines()
    assert lines[1].startswith("PASS  no token: 403 forbidden")
    assert lines[2].startswith(
        "FAIL  stored: the token was refused (403 forbidden). Check: the token in `postback_url`"
    )
    assert [text.split()[0] for text in lines[3:6]] == ["SKIP"] * 3
    assert lines[6] == "PASS  cleaned up: nothing to delete"
    assert lines[-1] == "smoke test FAILED (1 failed)"
    assert json_code == 1
    answer = json.loads(json_printed)
    assert answer["passed"] is False
    assert answer["steps"][1]["result"] == "FAIL"
    assert "the token in" in answer["steps"][1]["check"]


def test_smoke_against_a_receiver_that_does_not_answer_says_so(running: Running) -> None:
    closed = f"http://127.0.0.1:{free_port()}{Route.POSTBACKS}?{Route.TOKEN_PARAMETER}=x"
    nowhere = with_endpoints(running, postback_url=closed)

    code, printed = run_tool(smoke, "--endpoints", str(nowhere))

    assert code == 1
    failed = printed.splitlines()[1]
    assert failed.startswith(f"FAIL  no token: cannot reach {closed.split('?', maxsplit=1)[0]}")
    assert "Check: `postback_url` in the endpoints file (is `make local` running" in failed


# make status: what needs a person, and the commands that act


def action(answer: dict[str, Any], topic: str) -> dict[str, Any]:
    (found,) = [c for c in checks(answer, topic) if c["state"] == "action"]
    return found


def status_now(running: Running) -> dict[str, Any]:
    code, printed = run_tool(status, "--endpoints", str(running.endpoints), "--json")
    assert code == 0
    answer: dict[str, Any] = json.loads(printed)
    return answer


def test_an_unstored_report_is_replayed_by_the_command_status_prints(running: Running) -> None:
    body = event_body("call_minimal.xml").replace(b"42", uuid.uuid4().hex.encode())
    with failing("dynamodb", "PutItem", "ProvisionedThroughputExceededException"):
        assert post(running.system.endpoints[LocalEndpoint.POSTBACK_URL], body)[0] == 503

    before = action(status_now(running), "unstored")
    replayed = make(before["command"])
    after = checks(status_now(running), "unstored")

    today = datetime.now(UTC).date().isoformat()
    assert before["command"] == (
        f'make replay ARGS="--endpoints {running.endpoints} archived unstored '
        f'--since {before["data"]["since"]}"'
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "stored: 1" in replayed.stdout
    assert [c["state"] for c in after] == ["ok"]
    assert "all replayed" in after[0]["text"]
    assert today in json.dumps(after[0]["data"]["byDay"])


def test_dead_letters_are_moved_back_by_the_command_status_prints(running: Running) -> None:
    dead_letters = running.system.endpoints[LocalEndpoint.DEAD_LETTER_QUEUE]
    job = {"callId": "gone", "eventType": "call", "campaignId": None, "index": 0, "url": "x"}
    running.system.client("sqs").send_message(QueueUrl=dead_letters, MessageBody=json.dumps(job))

    before = action(status_now(running), "dead letters")
    moved = make(before["command"])
    (after,) = [
        check
        for check in checks(status_now(running), "dead letters")
        if check["data"]["name"] == LocalEndpoint.DEAD_LETTER_QUEUE
    ]

    assert before["data"]["messages"] == 1
    assert before["command"] == f'make replay ARGS="--endpoints {running.endpoints} redrive"'
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "moved back: 1" in moved.stdout
    assert (after["state"], after["data"]["messages"]) == ("ok", 0)


def test_events_dead_letters_are_published_again_by_the_command_status_prints(
    running: Running,
) -> None:
    """The events dead-letter queue names stream records, not messages to move back: status
    points at `replay events`, which reads them from the stream again (docs/events.md)."""
    dead_letters = running.system.endpoints[LocalEndpoint.EVENTS_DEAD_LETTER_QUEUE]
    sqs = running.system.client("sqs")
    sqs.send_message(QueueUrl=dead_letters, MessageBody="{}")
    try:
        found = action(status_now(running), "dead letters")
    finally:
        sqs.purge_queue(QueueUrl=dead_letters)

    assert found["data"]["name"] == LocalEndpoint.EVENTS_DEAD_LETTER_QUEUE
    assert found["command"] == f'make replay ARGS="--endpoints {running.endpoints} events"'
    assert "publish their events again" in found["text"]


def test_a_failed_recording_says_where_to_see_why_and_how_to_try_again(running: Running) -> None:
    callfire = running.system.callfire
    callfire.answer("GET", "/cloud/1/files/recording/gone", Canned(status=404))
    call_id = uuid.uuid4().hex[:12]
    body = (
        event_body("call_finished.xml")
        .replace(b"111111", call_id.encode())
        .replace(
            b"https://www.callfire.com/cloud/1/files/recording/",
            f"{callfire.url}/cloud/1/files/recording/gone".encode(),
        )
    )
    assert post(running.system.endpoints[LocalEndpoint.POSTBACK_URL], body)[0] == 200
    wait_until_no_recording_is(running.system, RecordingStatus.PENDING)

    failed = action(status_now(running), "recordings")
    retried = make(failed["command"])

    assert failed["text"].startswith("1 FAILED (see why: make query ARGS=")
    assert failed["command"] == (
        f'make replay ARGS="--endpoints {running.endpoints} recordings --include-failed"'
    )
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "queued: 1" in retried.stdout


class RecordingWebhook(BaseHTTPRequestHandler):
    """Stands for a `POST /webhooks` route that only checks the signature; it stores nothing, so
    the smoke test must say so."""

    secret = "whsec-smoke"
    seen: ClassVar[list[tuple[str | None, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signature = self.headers.get("X-CallFire-Signature")
        self.seen.append((signature, body))
        signed = signature == signature_of(self.secret, body)
        answer = {"status": "stored"} if signed else {"error": "forbidden"}
        payload = json.dumps(answer).encode()
        self.send_response(200 if signed else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: object) -> None:
        return None


def test_with_a_v2_webhook_route_the_smoke_test_sends_a_signed_delivery(running: Running) -> None:
    """A route that answers `stored` but stores nothing: the step signs as CallFire does, and
    fails with a useful line (make local's own route passes: the tests above)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingWebhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    try:
        with_route = with_endpoints(
            running,
            **{
                LocalEndpoint.WEBHOOK_URL: url,
                LocalEndpoint.WEBHOOK_SECRET: RecordingWebhook.secret,
            },
        )
        code, printed = run_tool(smoke, "--endpoints", str(with_route))
    finally:
        server.shutdown()
        server.server_close()

    v2 = [text for text in printed.splitlines() if text.split("  ")[-1].startswith("v2 ")]
    assert code == 1
    assert v2[0].startswith(
        "FAIL  v2 webhook: answered 200 stored, but the calls table has no item"
    )
    assert v2[1] == "PASS  v2 cleaned up: the v2 item is deleted"
    (unsigned, _), (signature, body) = RecordingWebhook.seen
    assert unsigned is None
    assert signature == signature_of(RecordingWebhook.secret, body)
    assert json.loads(body)["events"][0]["resourceType"] == "OutboundCall"


def test_smoke_on_aws_reads_the_outputs_and_the_token_secret_and_never_prints_it(
    running: Running,
) -> None:
    """`--aws`: the deployed stack's outputs, here a CloudFormation stack in the local system's
    moto (which this process's boto3 reaches through AWS_ENDPOINT_URL) whose `PostbackUrl` is
    the local gateway (and `WebhookUrl` its /webhooks); the token is read from the secret
    `TokenSecretArn` names, the webhook secret from `WebhookSecretArn`."""
    system = running.system
    outputs = {
        **system.resources.outputs(),
        Output.POSTBACK_URL: f"{system.gateway.url}{Route.POSTBACKS}",
        Output.WEBHOOK_URL: f"{system.gateway.url}{Route.WEBHOOKS}",
    }
    name = f"SmokeOnAws-{uuid.uuid4().hex[:8]}"
    system.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(
            {
                "Resources": {"Anchor": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()},
            }
        ),
    )
    token = smoke.split_token(system.endpoints[LocalEndpoint.POSTBACK_URL])[1]

    code, printed = run_tool(smoke, "--aws", "--stack", name)
    json_code, json_printed = run_tool(smoke, "--aws", "--stack", name, "--json")

    assert code == 0, printed
    assert printed.splitlines()[0].startswith(f"smoke test of AWS stack {name}")
    assert printed.splitlines()[-1] == "smoke test passed"
    assert (json_code, json.loads(json_printed)["passed"]) == (0, True)
    assert token not in printed + json_printed
    assert system.endpoints[LocalEndpoint.WEBHOOK_SECRET] not in printed + json_printed
    assert "PASS  v2 webhook: unsigned 403, signed 200 stored" in printed
