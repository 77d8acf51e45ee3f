"""The registration service with scripted secrets and answers: what counts as subscribed, what is
retried and how long, what a failure says, and that no secret ever shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.names import RegistrationRecord as Record
from functions.names import SubscriptionResource as Prop
from functions.registration.ports import Failure, HttpAnswer, NoAnswer
from functions.registration.service import (
    Advice,
    RegistrationFailed,
    RegistrationService,
    RetryPolicy,
    judge,
)
from functions.registration.subscriptions import physical_id
from local.callfire import SAVED, report_response
from tests.fakes import FakeSecrets, ManualClock, RecordedStatus, ScriptedPoster

API_KEY = "sk_live/KEY+with&odd=chars"
TOKEN = "TokenValue0123456789abcdefABCDEF"
KEY_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:callfire/api-key"
TOKEN_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf"
POSTBACK_URL = "https://abc.execute-api.us-east-1.amazonaws.com/postbacks"
PROPERTIES = {
    Prop.POSTBACK_URL: POSTBACK_URL,
    Prop.CALLFIRE_BASE_URL: "https://www.callfire.com",
    Prop.CAMPAIGN_IDS: [],
    Prop.API_KEY_SECRET_ARN: KEY_ARN,
    Prop.TOKEN_SECRET_ARN: TOKEN_ARN,
}
POLICY = RetryPolicy(attempts=3, timeout_seconds=10, first_backoff_seconds=1, max_backoff_seconds=8)
FALSE = report_response("Invalid API key", success=False)


def ok() -> HttpAnswer:
    return HttpAnswer(200, SAVED)


@dataclass
class Setup:
    service: RegistrationService
    poster: ScriptedPoster
    secrets: FakeSecrets
    clock: ManualClock

    def event(self, request_type: str = "Create", **extra: Any) -> dict[str, Any]:
        return {"RequestType": request_type, "ResourceProperties": dict(PROPERTIES), **extra}

    def run(self, event: dict[str, Any], *, budget: float = 300.0) -> dict[str, Any]:
        return self.service.on_event(event, deadline=self.clock.now + budget)


def secrets_of(**errors: str) -> FakeSecrets:
    return FakeSecrets({KEY_ARN: API_KEY, TOKEN_ARN: TOKEN}, errors=errors)


def setup(*script: HttpAnswer | NoAnswer, secrets: FakeSecrets | None = None) -> Setup:
    clock = ManualClock()
    poster = ScriptedPoster(list(script) or [ok()], clock)
    secrets = secrets or secrets_of()
    service = RegistrationService(
        secrets=secrets, poster=poster, policy=POLICY, sleep=clock.sleep, clock=clock
    )
    return Setup(service, poster, secrets, clock)


def failure_of(run: Setup, event: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(RegistrationFailed) as raised:
        run.run(event, **kwargs)
    message = str(raised.value)
    assert API_KEY not in message
    assert TOKEN not in message
    return message


def test_create_posts_the_form_to_both_endpoints_and_answers_the_framework(
    log_output: list[str],
) -> None:
    run = setup()

    result = run.run(run.event())

    assert [(url, form) for url, form, _ in run.poster.calls] == [
        (
            f"https://www.callfire.com/cloud/1/reports/callback/{kind}",
            {"apikey": [API_KEY], "postUrl": [f"{POSTBACK_URL}?token={TOKEN}"]},
        )
        for kind in ("callfinish", "campaignfinish")
    ]
    assert result == {
        "PhysicalResourceId": physical_id(POSTBACK_URL),
        "Data": {Prop.POSTBACK_URL: POSTBACK_URL, "Subscriptions": "2"},
    }
    assert run.clock.pauses == []
    assert any('"subscribed with CallFire"' in line for line in log_output)
    for line in log_output:
        assert API_KEY not in line
        assert TOKEN not in line


def test_per_campaign_ids_subscribe_both_kinds_for_each() -> None:
    run = setup()

    run.run(
        {
            **run.event(),
            "ResourceProperties": {**PROPERTIES, Prop.CAMPAIGN_IDS: ["5", "6"]},
        }
    )

    assert [url.rsplit("callback/", 1)[1] for url, _, _ in run.poster.calls] == [
        "callfinish/5",
        "campaignfinish/5",
        "callfinish/6",
        "campaignfinish/6",
    ]


def test_success_false_fails_at_once_with_callfires_description() -> None:
    run = setup(HttpAnswer(200, FALSE))

    message = failure_of(run, run.event())

    assert len(run.poster.calls) == 1
    assert 'CallFire refused the subscription (success=false) and said "Invalid API key"' in message
    assert (
        "callfinish (account-wide) at https://www.callfire.com/cloud/1/reports/callback" in message
    )
    assert f"Check the API key in the secret {KEY_ARN}" in message
    assert "CallFire account" in message


def test_callfires_description_is_redacted_when_it_echoes_a_secret() -> None:
    echo = report_response(f"bad key {API_KEY} for {POSTBACK_URL}?token={TOKEN}", success=False)
    run = setup(HttpAnswer(200, echo.replace(b"&", b"&amp;")))

    message = failure_of(run, run.event())

    assert f'said "bad key *** for {POSTBACK_URL}?token=***"' in message


def test_a_second_endpoint_failure_says_what_was_already_subscribed() -> None:
    run = setup(ok(), HttpAnswer(200, FALSE))

    message = failure_of(run, run.event())

    assert "failed for campaignfinish (account-wide)" in message
    assert message.endswith("Already subscribed by this deployment: callfinish (account-wide).")


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_transient_statuses_are_retried_with_back_off_then_fail(status: int) -> None:
    run = setup(HttpAnswer(status, b"busy"))

    message = failure_of(run, run.event())

    assert len(run.poster.calls) == 3
    assert run.clock.pauses == [1, 2]
    assert f"after 3 attempts: CallFire answered HTTP {status}" in message
    assert "deploy again later" in message
    assert "callfireBaseUrl (https://www.callfire.com" in message


def test_a_transient_failure_that_clears_is_a_success() -> None:
    run = setup(HttpAnswer(500, b""), NoAnswer(Failure.TIMEOUT, "timed out"), ok())

    result = run.run(run.event())

    assert result["Data"]["Subscriptions"] == "2"
    assert len(run.poster.calls) == 4
    assert run.clock.pauses == [1, 2]


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    run = setup(
        HttpAnswer(429, b"", {"retry-after": "5"}),
        HttpAnswer(503, b"", {"Retry-After": "120"}),
        ok(),
    )

    run.run(run.event())

    assert run.clock.pauses == [5, 8]


def test_timeouts_fail_with_a_clear_message() -> None:
    run = setup(NoAnswer(Failure.TIMEOUT, "timed out"))

    message = failure_of(run, run.event())

    assert len(run.poster.calls) == 3
    assert "after 3 attempts: CallFire did not answer within 10 seconds" in message
    assert "CallFire may be down or unreachable: check callfireBaseUrl" in message


def test_connection_errors_are_retried_and_named() -> None:
    run = setup(NoAnswer(Failure.CONNECTION, "Connection refused"))

    message = failure_of(run, run.event())

    assert len(run.poster.calls) == 3
    assert "CallFire could not be reached (Connection refused)" in message


def test_tls_failures_are_not_retried() -> None:
    run = setup(NoAnswer(Failure.TLS, "certificate verify failed"))

    message = failure_of(run, run.event())

    assert len(run.poster.calls) == 1
    assert "TLS connection to CallFire failed (certificate verify failed)" in message
    assert "Check callfireBaseUrl" in message


@pytest.mark.parametrize(
    ("answer", "expected", "advice"),
    [
        (HttpAnswer(200, b"<html>sign in</html>"), "HTTP 200 without its report response", "Url"),
        (HttpAnswer(404, b"not found"), "CallFire answered HTTP 404", "callfireBaseUrl"),
        (HttpAnswer(401, FALSE), 'HTTP 401 and said "Invalid API key"', "API key"),
        (
            HttpAnswer(302, b"", {"Location": "https://x/login"}),
            "redirect to https://x/login",
            "Url",
        ),
        (HttpAnswer(201, SAVED), "CallFire answered HTTP 201", "callfireBaseUrl"),
    ],
    ids=["html", "not-found", "unauthorized", "redirect", "not-200"],
)
def test_permanent_failures_are_not_retried(answer: HttpAnswer, expected: str, advice: str) -> None:
    run = setup(answer)

    message = failure_of(run, run.event())

    assert len(run.poster.calls) == 1
    assert expected in message
    assert advice in message


def test_no_attempt_starts_past_the_deadline() -> None:
    run = setup(NoAnswer(Failure.TIMEOUT, "timed out"))

    message = failure_of(run, run.event(), budget=12)

    assert [timeout for _, _, timeout in run.poster.calls] == [10]
    assert "CallFire did not answer within 10 seconds" in message


def test_a_deadline_too_close_for_any_attempt_fails_clearly() -> None:
    run = setup()

    message = failure_of(run, run.event(), budget=1)

    assert run.poster.calls == []
    assert "ran out of time before it could ask CallFire" in message


def test_the_last_attempt_gets_only_the_time_that_is_left() -> None:
    run = setup(NoAnswer(Failure.TIMEOUT, "timed out"))

    failure_of(run, run.event(), budget=30)

    timeouts = [timeout for _, _, timeout in run.poster.calls]
    assert timeouts[:2] == [10, 10]
    assert timeouts[2] < 10


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ResourceNotFoundException", "does not exist in this account and region"),
        ("AccessDeniedException", "kms:Decrypt"),
        ("InternalServiceError", "could not be read: InternalServiceError"),
    ],
)
def test_an_unreadable_api_key_secret_fails_before_calling_callfire(
    code: str, expected: str
) -> None:
    run = setup(secrets=FakeSecrets({KEY_ARN: API_KEY, TOKEN_ARN: TOKEN}, errors={KEY_ARN: code}))

    message = failure_of(run, run.event())

    assert run.poster.calls == []
    assert KEY_ARN in message
    assert expected in message


def test_an_empty_api_key_secret_says_what_to_put_in_it() -> None:
    run = setup(secrets=FakeSecrets({KEY_ARN: " \n", TOKEN_ARN: TOKEN}))

    message = failure_of(run, run.event())

    assert "is empty: put your CallFire API key in it" in message
    assert run.poster.calls == []


def test_a_key_with_surrounding_whitespace_is_trimmed() -> None:
    run = setup(secrets=FakeSecrets({KEY_ARN: f"{API_KEY}\n", TOKEN_ARN: TOKEN}))

    run.run(run.event())

    assert run.poster.calls[0][1]["apikey"] == [API_KEY]


def test_invalid_properties_fail_with_their_name() -> None:
    run = setup()

    message = failure_of(
        run,
        {**run.event(), "ResourceProperties": {Prop.POSTBACK_URL: POSTBACK_URL}},
    )

    assert "CallfireBaseUrl is missing" in message
    assert run.secrets.reads == []


def test_unknown_request_types_fail() -> None:
    run = setup()

    assert "Unknown RequestType 'Replace'" in failure_of(run, run.event("Replace"))


def test_delete_asks_nothing_and_logs_what_stays_subscribed(log_output: list[str]) -> None:
    run = setup()

    result = run.run(run.event("Delete", PhysicalResourceId="callfire-subscription-1"))

    assert result == {"PhysicalResourceId": "callfire-subscription-1"}
    assert run.poster.calls == []
    assert run.secrets.reads == []
    (line,) = [line for line in log_output if "no unsubscribe" in line]
    assert POSTBACK_URL in line
    assert "callfinish (account-wide)" in line


def test_delete_never_fails_even_on_broken_properties() -> None:
    run = setup()

    result = run.run({"RequestType": "Delete", "PhysicalResourceId": "x", "ResourceProperties": {}})

    assert result == {"PhysicalResourceId": "x"}


def test_update_subscribes_again_and_keeps_the_physical_id(log_output: list[str]) -> None:
    run = setup()
    old = {**PROPERTIES, Prop.CAMPAIGN_IDS: ["5"]}

    result = run.run(
        run.event("Update", PhysicalResourceId="callfire-subscription-1", OldResourceProperties=old)
    )

    assert result["PhysicalResourceId"] == "callfire-subscription-1"
    assert len(run.poster.calls) == 2
    (line,) = [line for line in log_output if "still subscribed" in line]
    assert "callfinish (campaign 5)" in line
    assert "campaignfinish (campaign 5)" in line


def test_update_to_a_new_base_url_leaves_the_old_subscriptions_logged(
    log_output: list[str],
) -> None:
    run = setup()
    old = {**PROPERTIES, Prop.CALLFIRE_BASE_URL: "https://old.example"}

    run.run(run.event("Update", PhysicalResourceId="p", OldResourceProperties=old))

    (line,) = [line for line in log_output if "still subscribed" in line]
    assert "https://old.example" in line


def test_update_with_nothing_left_behind_logs_no_warning(log_output: list[str]) -> None:
    run = setup()

    run.run(run.event("Update", PhysicalResourceId="p", OldResourceProperties=dict(PROPERTIES)))

    assert not [line for line in log_output if "still subscribed" in line]


def test_judge_only_200_with_a_true_flag_is_success() -> None:
    def same(text: str) -> str:
        return text

    assert judge(HttpAnswer(200, SAVED), same).ok
    assert not judge(HttpAnswer(500, SAVED), same).ok
    assert judge(HttpAnswer(500, SAVED), same).transient
    assert judge(HttpAnswer(403, FALSE), same).advice is Advice.CREDENTIALS
    assert judge(HttpAnswer(200, FALSE), same).advice is Advice.CREDENTIALS


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [POLICY.backoff(retry) for retry in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 8]
    assert POLICY.backoff(1, retry_after=3) == 3
    assert POLICY.backoff(1, retry_after=60) == 8


def test_an_unexpected_fault_is_reported_without_secrets(log_output: list[str]) -> None:
    class Broken:
        def post_form(self, url: str, form: bytes, *, timeout: float) -> HttpAnswer:
            raise ValueError(f"cannot send {form.decode()}")

    service = RegistrationService(secrets=secrets_of(), poster=Broken(), policy=POLICY)

    with pytest.raises(RegistrationFailed) as raised:
        service.on_event({"RequestType": "Create", "ResourceProperties": PROPERTIES}, deadline=1e12)

    assert "failed unexpectedly: ValueError('cannot send apikey=***&postUrl=" in str(raised.value)
    assert any('"unexpected failure"' in line and "ValueError" in line for line in log_output)
    for text in [str(raised.value), *log_output]:
        assert "TokenValue" not in text
        assert "sk_live" not in text


def recording(*script: HttpAnswer | NoAnswer, error: str | None = None) -> tuple[Setup, Any]:
    """A setup whose service records its result, at a fixed moment."""
    run = setup(*script)
    status = RecordedStatus(error=error)
    run.service = RegistrationService(
        secrets=run.secrets,
        poster=run.poster,
        policy=POLICY,
        sleep=run.clock.sleep,
        clock=run.clock,
        status=status,
        now=lambda: datetime(2026, 11, 29, 10, 0, 0, 123000, tzinfo=UTC),
    )
    return run, status


def test_a_subscription_records_what_was_subscribed_and_when() -> None:
    run, status = recording()

    run.service.on_event(run.event(), deadline=run.clock.now + 300, function_name="Reg-Fn")

    assert status.records == [
        {
            Record.AT: "2026-11-29T10:00:00.123Z",
            Record.RESULT: Record.SUBSCRIBED,
            Record.REQUEST_TYPE: "Create",
            Record.SUBSCRIPTIONS: ["callfinish (account-wide)", "campaignfinish (account-wide)"],
            Record.FUNCTION: "Reg-Fn",
            Record.PROPERTIES: PROPERTIES,
        }
    ]


def test_a_failed_subscription_records_its_message_without_a_secret() -> None:
    echo = report_response(f"bad key {API_KEY} for {POSTBACK_URL}?token={TOKEN}", success=False)
    run, status = recording(HttpAnswer(200, echo.replace(b"&", b"&amp;")))

    message = failure_of(run, run.event("Update"))

    (record,) = status.records
    assert record[Record.RESULT] == Record.FAILED
    assert record[Record.REQUEST_TYPE] == "Update"
    assert record[Record.MESSAGE] == message
    assert record[Record.SUBSCRIPTIONS] == []
    text = json.dumps(record)
    assert API_KEY not in text
    assert TOKEN not in text


def test_properties_that_cannot_describe_a_subscription_are_recorded_as_a_failure() -> None:
    run, status = recording()

    failure_of(run, {"RequestType": "Create", "ResourceProperties": {}})

    (record,) = status.records
    assert record[Record.RESULT] == Record.FAILED
    assert "cannot be made" in record[Record.MESSAGE]
    assert Record.PROPERTIES not in record


def test_a_record_that_cannot_be_written_fails_nothing(log_output: list[str]) -> None:
    run, _ = recording(error="AccessDenied")

    result = run.run(run.event())

    assert result["Data"]["Subscriptions"] == "2"
    assert any("could not be recorded" in line and "AccessDenied" in line for line in log_output)


def test_a_delete_records_nothing() -> None:
    run, status = recording()

    run.run(run.event("Delete", PhysicalResourceId="x"))

    assert status.records == []
