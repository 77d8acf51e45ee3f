"""A 64 MiB recording, streamed by the stand-in CallFire (never held whole, neither there nor
here), copied by the real handler into a moto server in its own process (so that the memory
measured here is the handler's, not moto's copy of the object)."""

from __future__ import annotations

import hashlib
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from functions.names import Env, Handler, Output
from functions.recordings.jobs import jobs_for
from functions.reports import CallReport, EventType
from functions.reports.items import Table, to_item
from local.callfire import StandInCallFire
from local.invoke import reset_function_state
from local.resources import create_resources
from tests.helpers import REGION, later, recording_queue, report_store
from tests.integration.event_source import EventSource
from tests.integration.moto_process import MotoServer

HANDLER = Handler.RECORDINGS
MIB = 1024 * 1024
SIZE = 64 * MIB
MEMORY_BOUND = 16 * MIB
"""One 8 MiB part buffer, reused for every part, and room for the rest of a warm invocation."""
BLOCK = bytes(range(256)) * (MIB // 256)


def recording() -> Iterator[bytes]:
    for index in range(SIZE // MIB):
        yield index.to_bytes(4, "big") + BLOCK[4:]


def expected_digest() -> str:
    digest = hashlib.sha256()
    for chunk in recording():
        digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def on_server(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], Any]]:
    """Clients of the moto server, for the test and (through AWS_ENDPOINT_URL) the handler."""
    session = boto3.session.Session(region_name=REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    reset_function_state()
    yield lambda service: session.client(service, endpoint_url=moto_server.url)
    reset_function_state()


def test_a_64_mib_recording_is_streamed_with_bounded_memory(
    template: dict[str, Any],
    on_server: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    resources = create_resources(template, on_server, region=REGION, stack_name="streaming")
    function = resources.function_for_handler(HANDLER)
    outputs = resources.outputs()
    with StandInCallFire() as callfire:
        for name, value in function.environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv(Env.RECORDING_LOOPBACK_ORIGINS, callfire.url.removeprefix("http://"))
        monkeypatch.setenv(Env.RECORDING_HOSTS, "127.0.0.1")
        queue_url = function.environment[Env.RECORDINGS_QUEUE_URL]
        consumer = EventSource(resources, function, on_server("sqs"), REGION)

        def report_call(url: str) -> CallReport:
            report = CallReport(
                call_id=str(uuid.uuid4().int)[:12],
                event_type=EventType.CALL,
                campaign_id="22222",
                recording_urls=(url,),
            )
            tables = {Table.CALLS: outputs[Output.CALLS_TABLE], Table.CAMPAIGNS: "unused"}
            report_store(on_server, tables, outputs[Output.BUCKET]).insert(
                to_item(report, raw="<call-finished/>", received_at="2026-01-01T00:00:00.000Z"),
                deadline=later(),
            )
            recording_queue(on_server, queue_url).enqueue(jobs_for(report), deadline=later())
            return report

        # A warm start: imports, clients and service models are loaded, as in a warm Lambda.
        report_call(callfire.url + "/cloud/1/files/recording/small")
        warm_up = consumer.poll_once()
        assert warm_up is not None
        assert warm_up.failed_ids == []
        report = report_call(
            callfire.add_recording("/cloud/1/files/recording/large", recording, "audio/x-wav")
        )

        tracemalloc.start()
        try:
            delivery = consumer.poll_once()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert delivery is not None
    assert delivery.failed_ids == []
    key = f"recordings/22222/{report.call_id}/0.wav"
    item = on_server("dynamodb").get_item(
        TableName=outputs[Output.CALLS_TABLE],
        Key={"callId": {"S": report.call_id}, "eventType": {"S": "call"}},
    )["Item"]
    entry = item["recordings"]["L"][0]["M"]
    assert entry["status"] == {"S": "COPIED"}
    assert entry["s3Key"] == {"S": key}
    assert entry["bytes"] == {"N": str(SIZE)}
    stored = on_server("s3").get_object(Bucket=outputs[Output.BUCKET], Key=key)
    assert stored["ContentType"] == "audio/x-wav"
    digest = hashlib.sha256()
    for chunk in stored["Body"].iter_chunks(MIB):
        digest.update(chunk)
    assert digest.hexdigest() == expected_digest()
    with capsys.disabled():
        print(f"\n  64 MiB recording copied; peak traced memory {peak / MIB:.1f} MiB")
    assert peak < MEMORY_BOUND
