"""`python -m tools.erase` end to end against the local system (`make local`): reports posted over
real HTTP, a recording copied from the stand-in CallFire, a conflicting delivery and a report that
could not be stored; the tool, finding the system through its endpoints file, erases the number
and leaves nothing of it in any table or any object version, and its audit record is listed."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.names import LocalEndpoint, Prefix
from local.faults import failing
from local.system import LocalSystem, Ports
from tests.e2e.test_local_system import post
from tests.helpers import event_body, new_id
from tools import erase, query

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSystem, Path]]:
    path = tmp_path_factory.mktemp("erase") / "endpoints.json"
    with LocalSystem(Ports.free(), endpoints_file=path, stack_name="e2e-erase") as running:
        yield running, path


def report(system: LocalSystem, sample: str, call_id: str, phone: str) -> bytes:
    recording = f"{system.callfire.url}/cloud/1/files/recording/{call_id}"
    return (
        event_body(sample)
        .replace(b"111111", call_id.encode())
        .replace(b"2132212289", phone.encode())
        .replace(b"https://www.callfire.com/cloud/1/files/recording/", recording.encode())
    )


def wait_until_copied(system: LocalSystem, call_id: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        calls = [i for i in query.calls_by_id(system.target(), call_id) if i["eventType"] == "call"]
        if calls and calls[0]["recordings"][0]["status"] == "COPIED":
            return
        time.sleep(0.2)
    raise AssertionError(f"the recording of {call_id} was not copied")


def every_trace(system: LocalSystem, phone: str) -> list[str]:
    """Every item, and every object version or delete marker, that holds the number."""
    found = []
    dynamodb = system.client("dynamodb")
    for table in (
        system.endpoints[LocalEndpoint.CALLS_TABLE],
        system.endpoints[LocalEndpoint.CAMPAIGNS_TABLE],
    ):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            found += [json.dumps(item)[:60] for item in page["Items"] if phone in json.dumps(item)]
    s3 = system.client("s3")
    bucket = system.endpoints[LocalEndpoint.BUCKET]
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
            if phone.encode() in body["Body"].read():
                found.append(version["Key"])
    return found


def keys_under(system: LocalSystem, prefix: str) -> list[str]:
    s3 = system.client("s3")
    bucket = system.endpoints[LocalEndpoint.BUCKET]
    listing = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return [
        entry["Key"] for entry in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
    ]


def test_the_erase_tool_removes_a_person_from_the_running_system(
    endpoints: tuple[LocalSystem, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    system, path = endpoints
    url = system.endpoints[LocalEndpoint.POSTBACK_URL]
    phone, bystander = (f"555{random.randrange(10**7):07d}" for _ in range(2))  # noqa: S311
    call_id, other_call, unstored_call = new_id(), new_id(), new_id()
    call = report(system, "call_finished.xml", call_id, phone)
    answers: list[tuple[int, dict[str, Any]]] = [
        post(url, call),
        post(url, report(system, "text_sent.xml", call_id, phone)),
        post(url, call.replace(b"TRANSFER", b"BUSY")),
        post(url, report(system, "call_finished.xml", other_call, bystander)),
    ]
    with failing("dynamodb", "PutItem"):
        answers.append(post(url, report(system, "call_finished.xml", unstored_call, phone)))
    assert [status for status, _ in answers] == [200, 200, 200, 200, 503]
    wait_until_copied(system, call_id)
    wait_until_copied(system, other_call)
    before = every_trace(system, phone)
    assert {trace.split("/")[0] for trace in before if "/" in trace} == {"rejected", "unstored"}
    assert keys_under(system, f"{Prefix.RECORDINGS}22222/{call_id}/")
    capsys.readouterr()

    dry = erase.main(["--endpoints", str(path), "--phone", phone, "--dry-run"])
    dry_output = capsys.readouterr().out
    erased = erase.main(["--endpoints", str(path), "--phone", phone, "--yes"])
    erased_output = capsys.readouterr().out
    listed = erase.main(["--endpoints", str(path), "--history", "--phone", phone])
    history = capsys.readouterr().out

    assert (dry, erased, listed) == (0, 0, 0)
    assert f"recordings/22222/{call_id}/" in dry_output
    assert every_trace(system, phone) == []
    assert keys_under(system, f"{Prefix.RECORDINGS}22222/{call_id}/") == []
    assert "Erased: " in erased_output
    assert "point-in-time recovery" in erased_output
    assert phone not in history
    assert len([line for line in history.splitlines() if " phone " in line]) == 1
    (bystanders_call,) = query.calls_by_id(system.target(), other_call)
    assert bystanders_call["phoneNumber"] == bystander
    assert keys_under(system, f"{Prefix.RECORDINGS}22222/{other_call}/")
