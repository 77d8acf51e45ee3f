"""CloudWatch Logs cannot be erased, so nothing personal may reach them: the real postback,
webhooks, recordings and registration handlers, run at DEBUG through representative reports
(calls, texts, a campaign, a duplicate, a conflict, refused and unstorable bodies, a recording
copied and one refused; v2 deliveries of a call and a text, stored, again, in conflict and
unstorable), write no phone number and no message text (`smsSent`, `smsReceived`, `notes`) into
any log line or metric line."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.names import SERVICE_NAME, Env, Handler, Output
from functions.names import SubscriptionResource as Prop
from functions.wiring import registration as registration_wiring
from local.callfire import StandInCallFire
from local.events import custom_resource_event
from local.faults import failing
from local.invoke import lambda_context, load_handler, reset_function_state
from local.resources import LocalFunction, LocalResources
from tests.helpers import EVENTS, REGION, event_body, new_id
from tests.integration.conftest import PostbackClient, WebhookClient
from tests.integration.event_source import EventSource
from tests.integration.test_registration_handler import FAST

PHONE = "3105550187"
OTHER_SIDE = "8185550142"
SMS_SENT = "Your appointment is at noon, Ms Alvarez"
SMS_RECEIVED = "Please stop calling my mother"
NOTES = "caller mentioned her diagnosis"
PERSONAL = (PHONE, "1" + PHONE, OTHER_SIDE, SMS_SENT, SMS_RECEIVED, NOTES)
DEBUG_LEVEL = ("POWERTOOLS_LOG_LEVEL", "DEBUG")


def personal(sample: str, call_id: str, recording: str = "") -> bytes:
    body = (
        event_body(sample)
        .replace(b"111111", call_id.encode())
        .replace(b"2132212289", PHONE.encode())
        .replace(b"8778973473", OTHER_SIDE.encode())
        .replace(b"88202", OTHER_SIDE.encode())
        .replace(b"sent message", SMS_SENT.encode())
        .replace(b"Reply message", SMS_RECEIVED.encode())
        .replace(b"notes that a call center campaign will add to a call.", NOTES.encode())
    )
    if recording:
        body = body.replace(
            b"https://www.callfire.com/cloud/1/files/recording/", recording.encode()
        )
    return body


@pytest.fixture
def everything_logged(
    log_output: list[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    """Every line the functions log, DEBUG included (the level follows the environment each time
    the functions' state is reset)."""
    service_logger = logging.getLogger(SERVICE_NAME)
    level = service_logger.level
    monkeypatch.setenv(DEBUG_LEVEL[0], DEBUG_LEVEL[1])
    service_logger.setLevel(logging.DEBUG)
    try:
        yield log_output
    finally:
        service_logger.setLevel(level)


@pytest.fixture
def callfire() -> Iterator[StandInCallFire]:
    with StandInCallFire() as standin:
        yield standin


def run_postbacks(postback: PostbackClient, callfire: StandInCallFire) -> str:
    """Every kind of report and outcome; the call id whose recordings were queued."""
    call_id = new_id()
    copied = callfire.add_recording(f"/recordings/{new_id()}", b"RIFF....WAVE", "audio/x-wav")
    refused = f"{callfire.url}/recordings/{new_id()}"
    call = personal("call_finished.xml", call_id, copied)
    call = call.replace(b"</recordings>", f"<file>{refused}</file></recordings>".encode())
    answers = [
        postback.post(call),
        postback.post(call),
        postback.post(call.replace(b"TRANSFER", b"BUSY")),
        postback.post(personal("text_sent.xml", call_id)),
        postback.post(personal("text_reply.xml", call_id)),
        postback.post(event_body("campaign_finished.xml")),
        postback.post(personal("call_finished.xml", new_id())[:-40]),
        postback.post(f"<unknown><phonenumber>{PHONE}</phonenumber></unknown>".encode()),
        postback.post(
            f"<call-finished><phonenumber>{PHONE}</phonenumber></call-finished>".encode()
        ),
    ]
    with failing("dynamodb", "PutItem"):
        answers.append(postback.post(personal("call_finished.xml", new_id())))
    assert [answer.status for answer in answers] == [
        200,
        200,
        200,
        200,
        200,
        200,
        400,
        422,
        422,
        503,
    ]
    return call_id


def v2_personal(sample: str, resource_id: str) -> dict[str, Any]:
    delivery: dict[str, Any] = json.loads((EVENTS / "v2" / sample).read_text())
    resource = delivery["events"][0]["resource"]
    resource.update(id=int(resource_id), toNumber=f"1{PHONE}", fromNumber=f"1{OTHER_SIDE}")
    resource["contact"].update(homePhone=f"1{PHONE}", workPhone=PHONE)
    if "message" in resource:
        resource["message"] = SMS_SENT
        for record in resource["records"]:
            record["message"] = SMS_SENT
    return delivery


def run_webhooks(webhooks: WebhookClient) -> None:
    """v2 deliveries of each outcome that logs: stored, delivered again, in conflict, unstorable."""
    call = v2_personal("outbound_call_finished.json", new_id())
    text = v2_personal("outbound_text_finished.json", new_id())
    both = json.dumps({**call, "events": [*call["events"], *text["events"]]}).encode()
    conflict = json.loads(both)
    conflict["events"][0]["resource"]["state"] = SMS_RECEIVED
    answers = [
        webhooks.post(both),
        webhooks.post(both),
        webhooks.post(json.dumps(conflict).encode()),
    ]
    with failing("dynamodb", "PutItem"):
        unstorable = v2_personal("outbound_call_finished.json", new_id())
        answers.append(webhooks.post(json.dumps(unstorable).encode()))
    assert [answer.status for answer in answers] == [200, 200, 200, 503]


def run_recordings(
    resources: LocalResources,
    aws: Callable[[str], Any],
    callfire: StandInCallFire,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    function = resources.function_for_handler(Handler.RECORDINGS)
    for name, value in function.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(*DEBUG_LEVEL)
    host = callfire.url.split("//", 1)[1]
    monkeypatch.setenv(Env.RECORDING_LOOPBACK_ORIGINS, host)
    monkeypatch.setenv(Env.RECORDING_HOSTS, "127.0.0.1")
    reset_function_state(keep_clients=True)
    source = EventSource(resources, function, aws("sqs"), REGION)
    while source.poll_once() is not None:
        pass


def run_registration(
    postback: PostbackClient, aws: Callable[[str], Any], callfire: StandInCallFire
) -> None:
    secret = aws("secretsmanager").create_secret(
        Name=f"logs-test/{new_id()}", SecretString="api-key"
    )["ARN"]
    function = LocalFunction("RegistrationHandler", Handler.REGISTRATION, {}, 300, 256)
    event = custom_resource_event(
        "Create",
        {
            Prop.POSTBACK_URL: "https://example.execute-api.us-east-1.amazonaws.com/postbacks",
            Prop.CALLFIRE_BASE_URL: callfire.url,
            Prop.CAMPAIGN_IDS: [],
            Prop.API_KEY_SECRET_ARN: secret,
            Prop.TOKEN_SECRET_ARN: postback.function.environment[Env.TOKEN_SECRET_ARN],
        },
        resource_type="Custom::CallfireSubscription",
    )
    load_handler(function.handler)(event, lambda_context(function, REGION))


@pytest.fixture
def ran(
    *,
    postback: PostbackClient,
    webhooks: WebhookClient,
    resources: LocalResources,
    aws: Callable[[str], Any],
    callfire: StandInCallFire,
    everything_logged: list[str],
) -> str:
    """Every function run through the reports, with their logs collected; the copied call."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registration_wiring, "POLICY", FAST)
        call_id = run_postbacks(postback, callfire)
        run_webhooks(webhooks)
        run_recordings(resources, aws, callfire, patch)
        run_registration(postback, aws, callfire)
    return call_id


def test_no_log_line_of_any_function_holds_a_phone_number_or_a_message(
    ran: str,
    postback: PostbackClient,
    aws: Callable[[str], Any],
    everything_logged: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    printed = capsys.readouterr()
    lines = [*everything_logged, *printed.out.splitlines(), *printed.err.splitlines()]

    assert len(everything_logged) >= 15
    assert any(ran in line for line in everything_logged), "the ids are logged"
    assert any("recording copied" in line for line in everything_logged)
    assert any("recording not copied" in line for line in everything_logged)
    assert any("subscribed" in line.lower() for line in everything_logged)
    assert any("delivery received" in line for line in everything_logged)
    assert any("event not stored" in line for line in everything_logged)
    copied = aws("s3").list_objects_v2(
        Bucket=postback.outputs[Output.BUCKET], Prefix=f"recordings/22222/{ran}/"
    )
    assert copied["KeyCount"] == 1
    leaks = [(value, line) for line in lines for value in PERSONAL if value in line]
    assert leaks == []


def test_the_check_sees_a_number_that_does_reach_a_log_line(
    postback: PostbackClient, everything_logged: list[str]
) -> None:
    from aws_lambda_powertools import Logger

    Logger(service=SERVICE_NAME).debug("careless", extra={"phoneNumber": PHONE})

    assert [line for line in everything_logged if PHONE in line]
