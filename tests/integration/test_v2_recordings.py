"""Recordings of v2 webhook calls, through the real webhooks and recordings handlers: fetched from
CallFire's v2 recording endpoint by id with HTTP Basic auth from the credentials secret (CallFire
hosts only, never logged), retried while CallFire is still recording, FAILED on ERROR."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from functions.names import Env
from local.callfire import LOCAL_PASSWORD, LOCAL_USERNAME, Canned, mp3_bytes
from local.invoke import reset_function_state
from local.resources import ACCOUNT_ID
from tests.helpers import EVENTS, REGION
from tests.integration.conftest import WebhookClient
from tests.integration.test_recordings_handler import (  # noqa: F401 - fixtures
    API_KEY,
    Recordings,
    port_of,
    recordings,
    servers,
)

CREDENTIALS_NAME = "recordings-tests/callfire-api-credentials"
AUTHORIZATION = "Basic " + base64.b64encode(f"{LOCAL_USERNAME}:{LOCAL_PASSWORD}".encode()).decode()


@pytest.fixture(scope="module")
def api_key_arn(aws: Callable[[str], Any]) -> str:
    """The recordings harness's API key secret, under a name of this module's own (moto's
    state is shared by the session)."""
    name = "v2-recordings-tests/callfire-api-key"
    aws("secretsmanager").create_secret(Name=name, SecretString=API_KEY)
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}"


@pytest.fixture(scope="module")
def credentials_arn(aws: Callable[[str], Any]) -> str:
    value = json.dumps({"username": LOCAL_USERNAME, "password": LOCAL_PASSWORD})
    aws("secretsmanager").create_secret(Name=CREDENTIALS_NAME, SecretString=value)
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{CREDENTIALS_NAME}"


@pytest.fixture
def v2(
    recordings: Recordings,  # noqa: F811 - the fixture imported above
    credentials_arn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Recordings:
    monkeypatch.setenv(Env.CALLFIRE_V2_BASE_URL, recordings.callfire.url)
    monkeypatch.setenv(Env.CALLFIRE_API_CREDENTIALS_SECRET_ARN, credentials_arn)
    reset_function_state()
    return recordings


def call_with_recordings(*states: str) -> tuple[bytes, str, list[str]]:
    event = json.loads((EVENTS / "v2" / "outbound_call_finished.json").read_text())["events"][0]
    call_id = uuid.uuid4().int % 10**14
    ids = [str(call_id * 10 + index) for index in range(len(states))]
    event["resource"].update(
        id=call_id,
        records=[
            {
                "id": 1,
                "recordings": [
                    {"id": int(recording_id), "state": state}
                    for recording_id, state in zip(ids, states, strict=True)
                ],
            }
        ],
    )
    return json.dumps({"events": [event]}).encode(), str(call_id), ids


def stored_recordings(v2: Recordings, call_id: str) -> list[dict[str, Any]]:
    from functions.reports import CallReport, EventType

    return v2.entries(CallReport(call_id=call_id, event_type=EventType.CALL))


def test_a_ready_recording_is_fetched_by_id_with_basic_auth(
    v2: Recordings, webhooks: WebhookClient
) -> None:
    body, call_id, (recording_id,) = call_with_recordings("READY")

    assert webhooks.post(body).body["outcomes"] == {"stored": 1}
    delivery = v2.deliver()

    assert delivery.failed_ids == []
    (entry,) = stored_recordings(v2, call_id)
    assert entry["status"] == "COPIED"
    assert entry["s3Key"] == f"recordings/13194908003/{call_id}/0.mp3"
    assert v2.object(entry["s3Key"])[:2] == (mp3_bytes(), "audio/mpeg")
    (request,) = v2.callfire.requests
    assert request.path == f"/v2/calls/recordings/{recording_id}.mp3"
    assert request.headers["Authorization"] == AUTHORIZATION


def test_a_recording_still_recording_is_retried_until_callfire_has_it(
    v2: Recordings, webhooks: WebhookClient
) -> None:
    body, call_id, (recording_id,) = call_with_recordings("RECORDING")
    v2.callfire.recording_states[recording_id] = "RECORDING"
    webhooks.post(body)

    first = v2.deliver()
    v2.callfire.recording_states[recording_id] = "READY"
    v2.make_visible(first)
    second = v2.deliver()

    assert len(first.failed_ids) == 1
    assert second.failed_ids == []
    (entry,) = stored_recordings(v2, call_id)
    assert (entry["status"], entry["recordingState"]) == ("COPIED", "RECORDING")
    assert [request.path for request in v2.callfire.requests] == [
        f"/v2/calls/recordings/{recording_id}",
        f"/v2/calls/recordings/{recording_id}",
        f"/v2/calls/recordings/{recording_id}.mp3",
    ]


def test_a_recording_callfire_reports_in_error_is_failed(
    v2: Recordings, webhooks: WebhookClient
) -> None:
    body, call_id, ids = call_with_recordings("RECORDING", "ERROR")
    v2.callfire.recording_states[ids[0]] = "ERROR"
    webhooks.post(body)

    delivery = v2.deliver()

    assert delivery.failed_ids == []
    entries = stored_recordings(v2, call_id)
    assert [entry["status"] for entry in entries] == ["FAILED", "FAILED"]
    assert entries[0]["reason"] == "CallFire reports the recording's state as ERROR"
    assert len(delivery.message_ids) == 1, "the one delivered in ERROR is never queued"


def test_credentials_go_to_callfire_hosts_only_and_are_never_logged(
    v2: Recordings,
    webhooks: WebhookClient,
    monkeypatch: pytest.MonkeyPatch,
    log_output: list[str],
) -> None:
    body, call_id, (recording_id,) = call_with_recordings("READY")
    elsewhere = f"localhost:{port_of(v2.elsewhere)}"  # not the CallFire host, 127.0.0.1
    monkeypatch.setenv(
        Env.RECORDING_LOOPBACK_ORIGINS, f"127.0.0.1:{port_of(v2.callfire)},{elsewhere}"
    )
    v2.elsewhere.add_recording("/elsewhere.mp3", mp3_bytes(), "audio/mpeg")
    v2.callfire.answer(
        "GET",
        f"/v2/calls/recordings/{recording_id}.mp3",
        Canned(status=302, headers={"Location": f"http://{elsewhere}/elsewhere.mp3"}),
    )
    reset_function_state()
    webhooks.post(body)

    v2.deliver()

    (entry,) = stored_recordings(v2, call_id)
    assert entry["status"] == "COPIED"
    assert v2.callfire.requests[0].headers["Authorization"] == AUTHORIZATION
    (followed,) = v2.elsewhere.requests
    assert "Authorization" not in followed.headers
    output = "\n".join(log_output)
    assert LOCAL_PASSWORD not in output
    assert AUTHORIZATION.split()[1] not in output


def test_a_credentials_secret_that_is_not_json_retries_and_says_why_without_values(
    v2: Recordings,
    webhooks: WebhookClient,
    aws: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
    log_output: list[str],
) -> None:
    name = f"recordings-tests/broken-{uuid.uuid4().hex[:6]}"
    aws("secretsmanager").create_secret(Name=name, SecretString="user:s3cret-pass")
    monkeypatch.setenv(
        Env.CALLFIRE_API_CREDENTIALS_SECRET_ARN,
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}",
    )
    reset_function_state()
    body, _, _ = call_with_recordings("READY")
    webhooks.post(body)

    delivery = v2.deliver()

    assert len(delivery.failed_ids) == 1
    assert v2.callfire.requests == []
    output = "\n".join(log_output)
    assert "the API credentials secret is not usable: it is not JSON" in output
    assert "s3cret-pass" not in output
