"""Each benchmark measured beside its baseline in the same run, interleaved so that whatever else
the machine does weighs on both alike."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from defusedxml.ElementTree import fromstring

from functions.names import Handler, LocalEndpoint

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "events"
DOCUMENTED = ("call_finished", "text_sent", "text_reply", "campaign_finished")
CLIENTS = ("dynamodb", "s3", "sqs", "secretsmanager")


@dataclass(frozen=True)
class Pair:
    """A measurement and its baseline, in the same unit."""

    value: float
    baseline: float

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")


def interleaved_best(
    first: Callable[[], Any], second: Callable[[], Any], *, number: int, repeat: int
) -> Pair:
    """The best (least disturbed) per-call time of each, measured turn about."""
    best_first = best_second = float("inf")
    for _ in range(repeat):
        best_first = min(best_first, timeit.timeit(first, number=number) / number)
        best_second = min(best_second, timeit.timeit(second, number=number) / number)
    return Pair(best_first, best_second)


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.xml").read_bytes()


def parse(number: int = 2000, repeat: int = 9) -> dict[str, Pair]:
    """Full read (inflate, decode, parse, validate, map to the item, size check) per report,
    against defusedxml.ElementTree.fromstring alone on the same bytes."""
    from functions.names import DEFAULT_MAX_BODY_BYTES
    from functions.postback.body import read_postback

    now = datetime.now(UTC)
    results = {}
    for name in DOCUMENTED:
        body = sample(name)
        results[name] = interleaved_best(
            lambda body=body: read_postback(body, None, now, DEFAULT_MAX_BODY_BYTES),
            lambda body=body: fromstring(body),
            number=number,
            repeat=repeat,
        )
    return results


V2_DOCUMENTED = ("outbound_call_finished", "outbound_text_finished", "call_broadcast_finished")
"""CallFire's published v2 deliveries (tests/events/v2/)."""


def parse_v2(number: int = 2000, repeat: int = 9) -> dict[str, Pair]:
    """Full read of a v2 delivery (decode, depth check, strict JSON with each event's exact text,
    every event mapped to its item, size check), against json.loads alone on the same bytes."""
    from functions.names import DEFAULT_MAX_BODY_BYTES
    from functions.postback.delivery import read_webhook
    from functions.reports import CallReport, CampaignReport
    from functions.reports.items import fit_item, to_item

    def read(body: bytes) -> None:
        for event in read_webhook(body, None, DEFAULT_MAX_BODY_BYTES).events:
            if isinstance(event.content, CallReport | CampaignReport):
                fit_item(
                    to_item(event.content, raw=event.raw, received_at="2026-01-01T00:00:00.000Z")
                )

    results = {}
    for name in V2_DOCUMENTED:
        body = (SAMPLES / "v2" / f"{name}.json").read_bytes()
        results[f"v2 {name}"] = interleaved_best(
            lambda body=body: read(body),
            lambda body=body: json.loads(body),
            number=number,
            repeat=repeat,
        )
    return results


HANDLER_IMPORT = f"import {Handler.POSTBACK.rpartition('.')[0]}"
HANDLER_FIRST_REQUEST = (
    HANDLER_IMPORT
    + "\nfrom functions.adapters.aws import aws_service\n"
    + "\n".join(f"aws_service({service!r}).client()" for service in CLIENTS)
)
BOTO3_CLIENTS = "import boto3\nsession = boto3.session.Session()\n" + "\n".join(
    f"session.client({service!r})" for service in CLIENTS
)


def _child_seconds(code: str, *, asset: Path | None = None) -> float:
    """Wall time of `code` in a fresh interpreter, measured inside it (startup excluded); with
    `asset`, an interpreter whose only packages are that unpacked code asset (no site-packages),
    as in Lambda."""
    probe = (
        f"import time\n_start = time.perf_counter()\n{code}\nprint(time.perf_counter() - _start)"
    )
    command = [sys.executable, "-c", probe]
    if asset is not None:
        command = [
            sys.executable,
            "-I",
            "-S",
            "-c",
            f"import sys\nsys.path.insert(0, {str(asset)!r})\n{probe}",
        ]
    environment = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    output = subprocess.run(
        command,
        cwd=asset or ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.strip().splitlines()[-1])


def asset_cold_start(runs: int = 9) -> Pair:
    """The handler's import plus its first request's clients, from the built code asset alone
    (boto3 and botocore bundled), against the same from this environment's packages (what the
    runtime's own SDK would be): medians, taken turn about."""
    from infra.bundling import LocalPythonBundling

    with tempfile.TemporaryDirectory(prefix="bench-asset-") as directory:
        asset = Path(directory)
        LocalPythonBundling().try_bundle(str(asset))
        bundled, installed = [], []
        for _ in range(runs):
            bundled.append(_child_seconds(HANDLER_FIRST_REQUEST, asset=asset))
            installed.append(_child_seconds(HANDLER_FIRST_REQUEST))
    return Pair(statistics.median(bundled), statistics.median(installed))


def cold_start(runs: int = 9) -> dict[str, Pair]:
    """Medians over fresh interpreters, taken turn about: the handler's import against importing
    boto3 and making the same clients; and the handler's import plus the clients its first
    request makes, against the same baseline."""
    handler, first_request, baseline = [], [], []
    for _ in range(runs):
        handler.append(_child_seconds(HANDLER_IMPORT))
        first_request.append(_child_seconds(HANDLER_FIRST_REQUEST))
        baseline.append(_child_seconds(BOTO3_CLIENTS))
    base = statistics.median(baseline)
    return {
        "import": Pair(statistics.median(handler), base),
        "import + clients": Pair(statistics.median(first_request), base),
    }


class _FakeDynamo:
    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {}


class _FakeS3:
    def put_object(self, **_: Any) -> dict[str, Any]:
        return {}


class _FakeSqs:
    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        return {"Successful": [{"Id": entry["Id"]} for entry in request["Entries"]]}


class _FakeSecrets:
    def get_secret_value(self, **_: Any) -> dict[str, Any]:
        return {"SecretString": "bench-token"}


def in_memory_service() -> Any:
    """The real service and adapters over in-memory clients."""
    from functions.adapters.archive import S3BodyArchive
    from functions.adapters.aws import AwsService
    from functions.adapters.dynamodb import DynamoReportStore
    from functions.adapters.queue import SqsRecordingQueue
    from functions.adapters.raw_bodies import S3RawBodies
    from functions.adapters.secrets import CachedSecret
    from functions.names import DEFAULT_MAX_BODY_BYTES
    from functions.postback.service import PostbackService
    from functions.reports.items import Table

    def service(name: str, client: Any) -> AwsService:
        return AwsService(name, lambda _: client)

    s3 = service("s3", _FakeS3())
    return PostbackService(
        token=CachedSecret(service("secretsmanager", _FakeSecrets()), "arn:bench"),
        store=DynamoReportStore(
            service("dynamodb", _FakeDynamo()),
            {Table.CALLS: "calls", Table.CAMPAIGNS: "campaigns"},
            S3RawBodies(s3, "bucket"),
        ),
        archive=S3BodyArchive(s3, "bucket"),
        queue=SqsRecordingQueue(service("sqs", _FakeSqs()), "https://sqs.local/queue"),
        max_body_bytes=DEFAULT_MAX_BODY_BYTES,
        archive_seconds=2.5,
    )


@contextlib.contextmanager
def captured_output(log_level: int = logging.INFO) -> Iterator[io.StringIO]:
    """Everything the handler writes (print and the Powertools logger, whose handler keeps the
    stream it was created with) goes to one in-memory stream. The logger logs at `log_level`
    (INFO as deployed), whatever level the benchmark process chose."""
    from functions.names import SERVICE_NAME

    sink = io.StringIO()
    logger = logging.getLogger(SERVICE_NAME)
    level = logger.level
    logger.setLevel(log_level)
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    streams = [handler.setStream(sink) for handler in handlers]
    try:
        with contextlib.redirect_stdout(sink):
            yield sink
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)
        logger.setLevel(level)


BENCH_CONTEXT_SECONDS = 3600
"""The one Lambda context the benchmark's thousands of invocations share counts its remaining time
down from when it was made (local/invoke.py), as a real one does. With the postback function's own
timeout it ran out during the run: past it every request was answered 503 before touching the
in-memory storage (the warm-up of a later sample failed, or the rows timed that faster path)."""


def warm_request(number: int = 500, repeat: int = 7) -> dict[str, Pair]:
    """One report through the real handler (Powertools resolver, logging, metrics, service,
    adapters, serialisation) with in-memory clients, against the parse floor on the same body.
    Output (the JSON log line and the metrics) goes to a discarded stream, as it costs the same."""
    from functions.handlers import postback as postback_handler
    from local.events import http_api_event
    from local.invoke import LocalLambdaContext

    service = in_memory_service()
    context = LocalLambdaContext("bench", 256, BENCH_CONTEXT_SECONDS, "us-east-1")
    results = {}
    original = postback_handler.postback_service
    postback_handler.postback_service = lambda: service  # type: ignore[assignment]
    try:
        for name in DOCUMENTED:
            body = sample(name)
            event = http_api_event(
                method="POST",
                path="/postbacks",
                raw_query="token=bench-token",
                headers={"content-type": "text/xml"},
                body=body,
                request_id=str(uuid.uuid4()),
            )
            with captured_output() as sink:
                answer = postback_handler.lambda_handler(event, context)
                if answer["statusCode"] != 200:
                    raise RuntimeError(f"the warm-up request failed: {answer}")

                def invoke(event: dict[str, Any] = event) -> None:
                    postback_handler.lambda_handler(event, context)
                    sink.seek(0)
                    sink.truncate()

                results[name] = interleaved_best(
                    invoke, lambda body=body: fromstring(body), number=number, repeat=repeat
                )
    finally:
        postback_handler.postback_service = original  # type: ignore[assignment]
    return results


def log_bytes_per_report(log_level: int = logging.INFO) -> dict[str, int]:
    """What the handler writes to stdout (its JSON log line and its metrics) for one report."""
    from functions.handlers import postback as postback_handler
    from local.events import http_api_event
    from local.invoke import LocalLambdaContext

    service = in_memory_service()
    context = LocalLambdaContext(
        "CallfireReceiver-PostbacksHandlerFunction", 256, BENCH_CONTEXT_SECONDS, "us-east-1"
    )
    original = postback_handler.postback_service
    postback_handler.postback_service = lambda: service  # type: ignore[assignment]
    sizes = {}
    try:
        for name in DOCUMENTED:
            event = http_api_event(
                method="POST", path="/postbacks", raw_query="token=bench-token", body=sample(name)
            )
            with captured_output(log_level) as sink:
                postback_handler.lambda_handler(event, context)
            sizes[name] = len(sink.getvalue().encode())
    finally:
        postback_handler.postback_service = original  # type: ignore[assignment]
    return sizes


def item_sizes() -> dict[str, dict[str, int]]:
    """DynamoDB sizes of each sample's item and of its index entries, in bytes."""
    from functions.names import CallAttribute, CallsTable
    from functions.postback.body import read_postback
    from functions.reports.items import Table, item_size

    sizes = {}
    for name in DOCUMENTED:
        _, item = read_postback(sample(name), None, datetime.now(UTC), 262144)
        entry = {"item": item_size(item.attributes), "index entries": 0, "index bytes": 0}
        if item.table is Table.CALLS:
            for index_key in (CallAttribute.CAMPAIGN_ID, CallAttribute.PHONE_NUMBER):
                if index_key in item.attributes and CallAttribute.CALL_START in item.attributes:
                    projected = {
                        name: value
                        for name, value in item.attributes.items()
                        if name in CallsTable.INDEX_ATTRIBUTES
                        or name in item.key
                        or name == CallAttribute.CALL_START
                    }
                    entry["index entries"] += 1
                    entry["index bytes"] = max(entry["index bytes"], item_size(projected) + 100)
        sizes[name] = entry
    return sizes


def asset_size() -> dict[str, int]:
    """The Lambda code asset as `make synth` bundles it: bytes unzipped and zipped."""
    from infra.bundling import LocalPythonBundling

    with tempfile.TemporaryDirectory(prefix="bench-asset-") as directory:
        output = Path(directory) / "asset"
        output.mkdir()
        LocalPythonBundling().try_bundle(str(output))
        files = [path for path in output.rglob("*") if path.is_file()]
        unzipped = sum(path.stat().st_size for path in files)
        archive = Path(directory) / "asset.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in files:
                bundle.write(path, path.relative_to(output))
        ours = sum(
            path.stat().st_size
            for path in files
            if "functions" in path.relative_to(output).parts[:1]
        )
        return {"unzipped": unzipped, "zipped": archive.stat().st_size, "functions package": ours}


_IMPORTED_BYTES = """
import sys, os, json
sizes = {}
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None)
    if not path or not os.path.exists(path):
        continue
    name = (module.__name__ or "").split(".")[0]
    known = ("functions", "aws_lambda_powertools", "defusedxml", "boto3", "botocore")
    group = name if name in known else "other"
    sizes[group] = sizes.get(group, 0) + os.path.getsize(path)
print(json.dumps(sizes))
"""


def imported_bytes() -> dict[str, dict[str, int]]:
    """Bytes of the source files a cold start imports, by package: the handler against boto3
    with the same clients."""

    def run(code: str) -> dict[str, int]:
        output = subprocess.run(
            [sys.executable, "-c", code + "\n" + _IMPORTED_BYTES],
            cwd=ROOT,
            env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        sizes: dict[str, int] = json.loads(output.strip().splitlines()[-1])
        return sizes

    return {"handler": run(HANDLER_IMPORT), "boto3 + clients": run(BOTO3_CLIENTS)}


@dataclass(frozen=True)
class EndToEnd:
    reports_per_second: float
    p50_ms: float
    p99_ms: float
    put_items_per_second: float
    sent: int
    unique: int
    stored: int
    lost: int
    extra_items: int
    statuses: dict[str, int]
    seconds: float
    events: int = 0
    """Item events published on the local bus for this run's reports (one per stored report)."""
    distinct_events: int = 0
    errors: tuple[str, ...] = ()
    """The sender's failures (no answer), first ones first: what an `error` status was."""
    resent_on_new_connection: int = 0


V2_SHARE = 0.25
"""The end-to-end runs send this share of their reports as v2 webhook deliveries."""
QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
"""The functions' log lines and metrics, unread in a benchmark, stay out of the terminal."""


def end_to_end(
    count: int = 2000,
    *,
    senders: int = 16,
    duplicate: float = 0.05,
    retry: float = 0.0,
    cut_off: float = 0.0,
    recordings: bool = True,
    v2_share: float = V2_SHARE,
    system: Any = None,
    count_published: bool = True,
) -> EndToEnd:
    """`count` reports of every kind over HTTP into the local system (started here unless one
    runs), `v2_share` of them v2 webhook deliveries, against moto's own put_item rate from as
    many senders, measured in the same run.

    The stream consumers are held while the reports are sent and timed: on AWS the events
    function reads the streams on its own Lambda capacity and the postback path does not wait
    for it, whereas here it would share this process and its two cores. Once released, every
    stored report must be published: one event each (by eventId; a redelivery is allowed).
    Counting them takes minutes at 2000 reports (moto's EventBridge and SQS slow down as the
    watched queue fills: each send and receive reads the whole queue); `count_published=False`
    leaves them uncounted (`events` 0)."""
    from local.system import LocalSystem, Ports

    if system is None:
        with LocalSystem(
            Ports.free(),
            endpoints_file=None,
            extra_environment=QUIET,
            stack_name=f"bench-{uuid.uuid4().hex[:8]}",
        ) as started:
            return end_to_end(
                count,
                senders=senders,
                duplicate=duplicate,
                retry=retry,
                cut_off=cut_off,
                recordings=recordings,
                v2_share=v2_share,
                system=started,
                count_published=count_published,
            )
    from bench.load import (
        EventCount,
        Routes,
        complete_reports,
        count_events,
        count_stored,
        make_reports,
        plan,
        send_all,
    )
    from local.bus import take_events

    run_id = f"1{time.time_ns()}"  # digits, never a leading zero (v2 ids are numbers), unique
    for stream in system.streams:  # on AWS they run on their own Lambda capacity (see below)
        stream.hold()
    recording = f"{system.callfire.url}/cloud/1/files/recording/bench"
    reports = make_reports(
        count, run_id=run_id, recording_url=recording, recordings=recordings, v2_share=v2_share
    )
    sends = plan(reports, duplicate=duplicate, retry=retry, cut_off=cut_off)
    routes = Routes(
        system.endpoints[LocalEndpoint.POSTBACK_URL],
        system.endpoints.get(LocalEndpoint.WEBHOOK_URL, ""),
        system.endpoints.get(LocalEndpoint.WEBHOOK_SECRET, ""),
    )
    with contextlib.redirect_stdout(io.StringIO()):
        result = send_all(routes, sends, senders=senders)
    counted = count_stored(
        system.client("dynamodb").scan,
        system.endpoints[LocalEndpoint.CALLS_TABLE],
        system.endpoints[LocalEndpoint.CAMPAIGNS_TABLE],
        run_id,
        complete_reports(sends),
    )
    put_rate = _moto_put_item_rate(system, count, senders)
    for stream in system.streams:
        stream.release()
    sqs = system.client("sqs")
    published = (
        count_events(
            lambda: take_events(sqs, system.endpoints[LocalEndpoint.EVENTS_QUEUE], wait_seconds=1),
            run_id,
            counted.stored,
        )
        if count_published
        else EventCount(0, 0)
    )
    return EndToEnd(
        reports_per_second=result.per_second,
        p50_ms=result.median * 1000,
        p99_ms=result.percentile(0.99) * 1000,
        put_items_per_second=put_rate,
        sent=result.sent,
        unique=counted.unique_sent,
        stored=counted.stored,
        lost=counted.lost,
        extra_items=counted.extra_items,
        statuses=dict(result.statuses),
        seconds=result.seconds,
        events=published.item_events,
        distinct_events=published.distinct,
        errors=tuple(result.errors[:10]),
        resent_on_new_connection=result.resent_on_new_connection,
    )


def _moto_put_item_rate(system: Any, count: int, senders: int) -> float:
    """moto's own ceiling: plain PutItem calls of sample-sized items from `senders` threads."""
    import threading

    table = system.endpoints[LocalEndpoint.CALLS_TABLE]
    body = sample("call_finished").decode()
    items = [
        {"callId": {"S": f"ceiling-{index}"}, "eventType": {"S": "call"}, "raw": {"S": body}}
        for index in range(count)
    ]
    clients = [system.client("dynamodb") for _ in range(senders)]

    def put(client: Any, share: list[dict[str, Any]]) -> None:
        for item in share:
            client.put_item(TableName=table, Item=item)

    threads = [
        threading.Thread(target=put, args=(clients[index], items[index::senders]))
        for index in range(senders)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.perf_counter() - started)
