"""The figures behind RELIABILITY.md, from one run of the local system over real HTTP:

    python -m bench.reliability            print them
    python -m bench.reliability --write    also rewrite RELIABILITY.md's results

1. every body of the hostile corpus: its answer, where it was kept, time and read-path memory;
2. faults injected into the functions' own AWS clients: the answer, what was stored or archived,
   and how it was recovered;
3. the benchmark's load with a misbehaving sender: sent, stored, lost;
4. AWS (and a recording's server) accepting the connection and never answering: the answer, and
   how much of the invocation's time was left when it came.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.measure import QUIET, end_to_end
from functions.adapters.archive import archive_key
from functions.names import Env, Handler, LocalEndpoint
from functions.postback import body as body_module
from functions.postback.body import read_postback, unwrap_body
from functions.postback.delivery import read_webhook
from functions.postback.signature import signature_of
from functions.reports import ReportRejected
from local.callfire import Canned, wav_bytes
from local.consumer import QueueConsumer
from local.faults import SilentServer, failing, hanging, hanging_call
from local.invoke import LocalLambdaContext, lambda_context, load_handler
from local.runner import patched_environment
from local.system import LocalSystem, Ports, reset_function_state
from tools import replay
from tools.table import render

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "events" / "hostile"
SAMPLES = ROOT / "tests" / "events"
REPORT = ROOT / "RELIABILITY.md"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> Answer:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "text/xml", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Answer(response.status, json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, json.loads(error.read()))


def archived(system: LocalSystem, prefix: str, request_id: str, extension: str = "xml") -> bool:
    today = datetime.now(UTC)
    key = archive_key(prefix, today, request_id, extension)
    try:
        system.client("s3").head_object(Bucket=system.endpoints[LocalEndpoint.BUCKET], Key=key)
    except system.client("s3").exceptions.ClientError:
        return False
    return True


def call_item(system: LocalSystem, call_id: str, event_type: str = "call") -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        system.client("dynamodb")
        .get_item(
            TableName=system.endpoints[LocalEndpoint.CALLS_TABLE],
            Key={"callId": {"S": call_id}, "eventType": {"S": event_type}},
        )
        .get("Item")
    )
    return item


def read_path_peak(body: bytes, encoding: str | None, *, webhook: bool = False) -> int:
    tracemalloc.start()
    try:
        if webhook:
            read_webhook(body, encoding, 256 * 1024)
        else:
            read_postback(
                unwrap_body(body, encoding, 256 * 1024), None, datetime.now(UTC), 256 * 1024
            )
    except ReportRejected:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def corpus(system: LocalSystem) -> list[dict[str, Any]]:
    expected: dict[str, dict[str, Any]] = json.loads((HOSTILE / "expected.json").read_text())
    rows = []
    for name, answer_expected in sorted(expected.items()):
        body = (HOSTILE / name).read_bytes()
        headers = answer_expected.get("headers")
        webhook = answer_expected.get("route") is not None
        url = system.endpoints[LocalEndpoint.WEBHOOK_URL if webhook else LocalEndpoint.POSTBACK_URL]
        started = time.perf_counter()
        answer = post(url, body, {**(headers or {}), **_signed(system, body, answer_expected)})
        seconds = time.perf_counter() - started
        request_id = answer.body.get("requestId", "")
        if answer.status == 200:
            kept = "stored"
        elif answer.status == 403 and webhook:
            kept = "nothing (unsigned)"
        elif archived(system, "rejected/", request_id, "json" if webhook else "xml"):
            kept = "rejected/"
        else:
            kept = "NOT KEPT"
        rows.append(
            {
                "body": name,
                "bytes": len(body),
                "answer": f"{answer.status} {answer.body.get('error') or answer.body['status']}",
                "expected": answer_expected["status"],
                "as expected": answer.status == answer_expected["status"],
                "kept": kept,
                "ms": seconds * 1000,
                "read-path peak kB": read_path_peak(
                    body, (headers or {}).get("content-encoding"), webhook=webhook
                )
                / 1024,
            }
        )
    return rows


def _signed(system: LocalSystem, body: bytes, expected: dict[str, Any]) -> dict[str, str]:
    """A webhook body's headers: signed over its bytes, over other bytes, or not at all."""
    if expected.get("route") is None or expected.get("signature") == "none":
        return {}
    signed = body + b" " if expected.get("signature") == "over-other-bytes" else body
    secret = system.endpoints[LocalEndpoint.WEBHOOK_SECRET]
    return {
        "Content-Type": "application/json",
        "X-CallFire-Signature": signature_of(secret, signed),
    }


def fresh_call(sample: str = "call_finished.xml") -> tuple[bytes, str]:
    call_id = f"f{time.time_ns() % 10**12}"
    return (SAMPLES / sample).read_bytes().replace(b"111111", call_id.encode()), call_id


@contextlib.contextmanager
def broken_reading() -> Iterator[None]:
    """A bug in the reading path, as a new release might bring."""
    original = body_module.read_report

    def broken(_: Any) -> Any:
        raise RuntimeError("a bug in the parser")

    body_module.read_report = broken  # type: ignore[assignment]
    try:
        yield
    finally:
        body_module.read_report = original  # type: ignore[assignment]


class Faults:
    """Each scenario injects one fault, posts one report, and says what happened to it."""

    def __init__(self, system: LocalSystem) -> None:
        self.system = system
        self.url = system.endpoints[LocalEndpoint.POSTBACK_URL]

    def run(self) -> list[dict[str, str]]:
        post(self.url, (SAMPLES / "call_minimal.xml").read_bytes())  # the functions' clients exist
        scenarios = [
            ("DynamoDB throttled", self.storage_throttled, "stored by `replay archived unstored`"),
            ("DynamoDB and S3 both down", self.storage_and_archive_down, "CallFire retries on 503"),
            ("SQS down", self.queue_down, "queued by `replay recordings`"),
            ("Secrets Manager down (token not cached)", self.token_down, "CallFire retries on 503"),
            ("S3 down while refusing a hostile body", self.archive_down, "CallFire retries"),
            ("DynamoDB refuses the duplicate's count", self.count_down, "nothing to do"),
            ("duplicate arrives during the first write", self.duplicate_in_flight, "nothing to do"),
            (
                "a bug in the reading path",
                self.bug_in_reading,
                "stored by `replay archived unstored`",
            ),
        ]
        rows = []
        for name, scenario, then in scenarios:
            answer, stored, kept = scenario()
            rows.append(
                {"fault": name, "answer": answer, "stored": stored, "archived": kept, "then": then}
            )
        return rows

    def _kept(self, answer: Answer) -> str:
        request_id = answer.body.get("requestId", "")
        for prefix in ("unstored/", "rejected/"):
            if archived(self.system, prefix, request_id):
                return prefix
        return "no"

    def storage_throttled(self) -> tuple[str, str, str]:
        body, call_id = fresh_call()
        with failing("dynamodb", "PutItem", "ProvisionedThroughputExceededException"):
            answer = post(self.url, body)
        return f"{answer.status}", _yes(call_item(self.system, call_id)), self._kept(answer)

    def storage_and_archive_down(self) -> tuple[str, str, str]:
        body, call_id = fresh_call()
        with failing("dynamodb", "PutItem"), failing("s3", "PutObject"):
            answer = post(self.url, body)
        return f"{answer.status}", _yes(call_item(self.system, call_id)), self._kept(answer)

    def queue_down(self) -> tuple[str, str, str]:
        body, call_id = fresh_call()
        with failing("sqs", "SendMessageBatch"):
            answer = post(self.url, body)
        item = call_item(self.system, call_id) or {}
        statuses = [r["M"]["status"]["S"] for r in item.get("recordings", {}).get("L", [])]
        return f"{answer.status}", f"yes, recordings {statuses}", self._kept(answer)

    def token_down(self) -> tuple[str, str, str]:
        body, call_id = fresh_call()
        reset_function_state()
        try:
            with failing("secretsmanager", "GetSecretValue"):
                answer = post(self.url, body)
        finally:
            reset_function_state()
        return f"{answer.status}", _yes(call_item(self.system, call_id)), self._kept(answer)

    def archive_down(self) -> tuple[str, str, str]:
        with failing("s3", "PutObject"):
            answer = post(self.url, (HOSTILE / "xxe_file.xml").read_bytes())
        return f"{answer.status} (not 400)", "no", self._kept(answer)

    def count_down(self) -> tuple[str, str, str]:
        body, call_id = fresh_call("text_reply.xml")
        post(self.url, body)
        with failing("dynamodb", "UpdateItem"):
            answer = post(self.url, body)
        deliveries = (call_item(self.system, call_id, "text-reply") or {})["deliveries"]["N"]
        return f"{answer.status} {answer.body['status']}", f"yes, deliveries {deliveries}", "no"

    def duplicate_in_flight(self) -> tuple[str, str, str]:
        from functions.adapters.aws import aws_service

        body, call_id = fresh_call("text_sent.xml")
        answers: list[Answer] = []
        interleaved: list[bool] = []
        client = aws_service("dynamodb").client()

        def second_delivery(**_: Any) -> None:
            """A second Lambda instance takes the same report while the first is about to write
            (called directly: the local gateway runs one invocation at a time)."""
            if not interleaved:
                interleaved.append(True)
                answers.append(invoke_directly(self.system, body))

        client.meta.events.register(
            "before-call.dynamodb.PutItem", second_delivery, unique_id="dup"
        )
        try:
            answers.append(post(self.url, body))
        finally:
            client.meta.events.unregister("before-call.dynamodb.PutItem", unique_id="dup")
        deliveries = (call_item(self.system, call_id, "text-sent") or {})["deliveries"]["N"]
        summary = ", ".join(f"{a.status} {a.body.get('status')}" for a in answers)
        return summary, f"one item, deliveries {deliveries}", "no"

    def bug_in_reading(self) -> tuple[str, str, str]:
        body, call_id = fresh_call()
        with broken_reading():
            answer = post(self.url, body)
        return f"{answer.status}", _yes(call_item(self.system, call_id)), self._kept(answer)


RECORDINGS_SECONDS = 25
"""The recordings function's invocation in the hang scenarios: its 5 minutes would behave the
same, only later (what it keeps back for its bookkeeping is 15 s)."""


class Hangs:
    """Each scenario points the functions at a server that accepts and never answers, for one
    service (or one call), and invokes the real handler with a real, counting-down deadline: the
    postback function with its own timeout, the recordings function with RECORDINGS_SECONDS."""

    def __init__(self, system: LocalSystem) -> None:
        self.system = system
        self.silent = SilentServer().__enter__()

    def run(self) -> list[dict[str, str]]:
        for consumer in self.system.consumers:
            consumer.stop()  # the scenarios take the recordings' messages themselves; run last
        try:
            return self._run()
        finally:
            self.silent.__exit__(None, None, None)

    def _run(self) -> list[dict[str, str]]:
        scenarios = [
            ("DynamoDB", self.postback("dynamodb", fresh_call()[0]), "`replay archived unstored`"),
            (
                "S3, refusing a hostile body",
                self.postback("s3", (HOSTILE / "xxe_file.xml").read_bytes()),
                "CallFire retries (5xx)",
            ),
            ("SQS", self.postback("sqs", fresh_call()[0]), "`replay recordings`"),
            (
                "Secrets Manager (token not cached)",
                self.postback("secretsmanager", fresh_call()[0]),
                "CallFire retries (5xx)",
            ),
            ("the recording's server (download)", self.download(), "the queue retries it"),
            ("S3, second part of a 9 MB recording", self.part_upload(), "the queue retries it"),
        ]
        return [
            {"never answers": name, "answer": answer, "kept": kept, "then": then}
            for name, (answer, kept), then in scenarios
        ]

    def postback(self, service: str, body: bytes) -> tuple[str, str]:
        function = self.system.resources.function_for_handler(Handler.POSTBACK)
        with hanging(service, self.silent):
            context = lambda_context(function, self.system.region)
            answer = invoke_directly(self.system, body, context)
        call_id = answer.body.get("id", "")
        kept = "stored" if call_id and call_item(self.system, call_id) else ""
        kept = kept or next(
            (
                prefix
                for prefix in ("unstored/", "rejected/")
                if archived(self.system, prefix, answer.body.get("requestId", ""))
            ),
            "not kept (CallFire keeps it)",
        )
        return f"{answer.status}, {_left(context)} left", kept

    def download(self) -> tuple[str, str]:
        silent_origin = urlsplit(self.silent.url).netloc
        allowed = os.environ.get(Env.RECORDING_LOOPBACK_ORIGINS, "")
        with patched_environment({Env.RECORDING_LOOPBACK_ORIGINS: f"{allowed},{silent_origin}"}):
            reset_function_state()
            body, call_id = fresh_call()
            body = body.replace(
                b"https://www.callfire.com/cloud/1/files/recording/",
                f"{self.silent.url}/recording/1".encode(),
            )
            post(self.system.endpoints[LocalEndpoint.POSTBACK_URL], body)
            outcome = self.copy_one(call_id)
        reset_function_state()
        return outcome, _entries(self.system, call_id)

    def part_upload(self) -> tuple[str, str]:
        path = "/cloud/1/files/recording/9001"
        self.system.callfire.answer("GET", path, Canned(body=wav_bytes(seconds=1100)))
        body, call_id = fresh_call()
        body = body.replace(
            b"https://www.callfire.com/cloud/1/files/recording/",
            f"{self.system.callfire.url}{path}".encode(),
        )
        post(self.system.endpoints[LocalEndpoint.POSTBACK_URL], body)
        with hanging_call("s3", "UploadPart", self.silent, when=lambda p: p["PartNumber"] == 2):
            outcome = self.copy_one(call_id)
        bucket = self.system.endpoints[LocalEndpoint.BUCKET]
        listing = self.system.client("s3").list_objects_v2(Bucket=bucket, Prefix="recordings/")
        objects = [o["Key"] for o in listing.get("Contents", []) if call_id in o["Key"]]
        return outcome, f"{_entries(self.system, call_id)}, objects {len(objects)}"

    def copy_one(self, call_id: str) -> str:
        """The recordings queue's batches, through the real handler with a short deadline, until
        the one holding `call_id`'s job; its outcome for that job."""
        (source,) = self.system.resources.queue_sources()
        function = self.system.resources.functions()[source.function_id]
        seen: list[tuple[LocalLambdaContext, dict[str, Any], list[str]]] = []

        def invoke(_: str, event: dict[str, Any]) -> Any:
            context = lambda_context(
                function, self.system.region, timeout_seconds=RECORDINGS_SECONDS
            )
            response = load_handler(function.handler)(event, context)
            ours = [r["messageId"] for r in event["Records"] if call_id in r["body"]]
            if ours:
                seen.append((context, response, ours))
            return response

        consumer = QueueConsumer(
            source, self.system.client("sqs"), invoke, self.system.region, wait_seconds=1
        )
        for _ in range(200):
            if seen:
                break
            consumer.poll_once()
        if not seen:
            return "no message arrived"
        context, response, ours = seen[-1]
        failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        kept = "failed in the batch answer (kept for a retry)" if set(ours) <= failed else "done"
        return f"message {kept}, {_left(context)} left"


def _left(context: LocalLambdaContext) -> str:
    return f"{context.get_remaining_time_in_millis() / 1000:.1f} of {context.timeout_seconds} s"


def _entries(system: LocalSystem, call_id: str) -> str:
    item = call_item(system, call_id) or {}
    return "recordings " + str(
        [r["M"]["status"]["S"] for r in item.get("recordings", {}).get("L", [])]
    )


def invoke_directly(
    system: LocalSystem, body: bytes, context: LocalLambdaContext | None = None
) -> Answer:
    from local.events import http_api_event

    function = system.resources.function_for_handler(Handler.POSTBACK)
    token = system.endpoints[LocalEndpoint.POSTBACK_URL].split("token=", 1)[1]
    event = http_api_event(method="POST", path="/postbacks", raw_query=f"token={token}", body=body)
    context = context or lambda_context(function, system.region)
    response = load_handler(function.handler)(event, context)
    return Answer(response["statusCode"], json.loads(response["body"]))


def _yes(item: dict[str, Any] | None) -> str:
    return "yes" if item else "no"


def recover(system: LocalSystem) -> dict[str, int]:
    with contextlib.redirect_stderr(io.StringIO()):
        tally = replay.replay_archived(system.target(), "unstored/", date.today(), date.today())
        queued = replay.requeue_recordings(system.target())
    return {
        **{f"unstored: {k}": v for k, v in tally.items()},
        **{f"recordings: {k}": v for k, v in queued.items()},
    }


def markdown(results: dict[str, Any]) -> str:
    corpus_rows = results["corpus"]
    expected = sum(row["as expected"] for row in corpus_rows)
    kept = sum(row["kept"] != "NOT KEPT" for row in corpus_rows)
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python -m bench.reliability`.\n",
        f"### Hostile inputs: {len(corpus_rows)} bodies, {expected} answered as expected, "
        f"{kept} kept (stored or archived)\n",
        "| body | bytes | answer | kept | ms | read-path peak kB |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['body']} | {r['bytes']} | {r['answer']} | {r['kept']} | {r['ms']:.0f} | "
        f"{r['read-path peak kB']:.0f} |"
        for r in corpus_rows
    ]
    lines += [
        "",
        "### Faults injected and survived\n",
        "| fault | answer | stored | archived | then |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['fault']} | {r['answer']} | {r['stored']} | {r['archived']} | {r['then']} |"
        for r in results["faults"]
    ]
    lines += [
        "",
        "Recovery afterwards (`make replay`): "
        + ", ".join(f"{k} {v}" for k, v in results["recovery"].items()),
    ]
    lines += [
        "",
        "### AWS, or a recording's server, accepting the connection and never answering\n",
        "Each on the real handler with a deadline counting down (the postback function's own "
        f"timeout; the recordings function given {RECORDINGS_SECONDS} s), the time left read "
        "from the invocation's context when it answered.\n",
        "| never answers | answer | kept | then |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['never answers']} | {r['answer']} | {r['kept']} | {r['then']} |"
        for r in results["hangs"]
    ]
    load = results["load"]
    lines += [
        "",
        "### Load with a misbehaving sender\n",
        f"{load['sent']} requests from 16 senders (10% retried at once, 1% cut off mid-body, 5% "
        f"sent again later): {load['unique']} unique complete reports, **{load['stored']} stored, "
        f"{load['lost']} lost, {load['extra_items']} stored twice**; answers {load['statuses']}; "
        f"{load['reports_per_second']:.0f} requests/s, p99 {load['p99_ms']:.0f} ms.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reliability",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--count", type=int, default=2000, help="reports in the load run")
    options = parser.parse_args(argv)
    with LocalSystem(
        Ports.free(), endpoints_file=None, extra_environment=QUIET, stack_name="reliability"
    ) as system:
        results: dict[str, Any] = {"corpus": corpus(system), "faults": Faults(system).run()}
        results["recovery"] = recover(system)
        load = end_to_end(options.count, duplicate=0.05, retry=0.10, cut_off=0.01, system=system)
        results["load"] = load.__dict__
        results["hangs"] = Hangs(system).run()
    print(render(list(results["corpus"][0]), [list(row.values()) for row in results["corpus"]]))
    print()
    print(render(list(results["faults"][0]), [list(row.values()) for row in results["faults"]]))
    print("\nrecovery:", results["recovery"])
    print("load:", json.dumps(results["load"], default=str))
    print()
    print(render(list(results["hangs"][0]), [list(row.values()) for row in results["hangs"]]))
    if options.write:
        text = REPORT.read_text()
        start, end = "<!-- results -->\n", "<!-- /results -->"
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        REPORT.write_text(before + start + markdown(results) + end + after)
        print(f"wrote {REPORT.relative_to(ROOT)}", file=sys.stderr)
    failures = [
        row for row in results["corpus"] if not row["as expected"] or row["kept"] == "NOT KEPT"
    ]
    return 1 if failures or results["load"]["lost"] or results["load"]["extra_items"] else 0


if __name__ == "__main__":
    sys.exit(main())
