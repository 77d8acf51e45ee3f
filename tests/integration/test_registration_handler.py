"""The real registration handler, as the Provider framework invokes it, against the stand-in
CallFire over real HTTP and moto Secrets Manager: the token secret created from the synthesized
template, the API key secret created by its configured name, as a user would."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from functions.names import Env, StatusObject
from functions.names import RegistrationRecord as Record
from functions.names import SubscriptionResource as Prop
from functions.registration.service import RegistrationFailed, RetryPolicy
from functions.wiring import registration as wiring
from local.callfire import SAVED, Canned, StandInCallFire, Subscription, report_response
from local.events import custom_resource_event
from local.faults import SilentServer, hanging
from local.invoke import lambda_context, load_handler, reset_function_state
from local.resources import CustomResource, LocalResources, create_resources
from local.template import synthesize
from tests.helpers import REGION
from tools.status import Commands
from tools.status import parser as status_parser
from tools.target import Target

API_KEY_SECRET_NAME = "callfire/api-key"
API_KEY = "cf-live/key+with&odd=chars"
FAST = RetryPolicy(
    attempts=3, timeout_seconds=0.5, first_backoff_seconds=0.01, max_backoff_seconds=0.05
)
CALLFINISH = "/cloud/1/reports/callback/callfinish"
CAMPAIGNFINISH = "/cloud/1/reports/callback/campaignfinish"


@pytest.fixture(scope="module")
def registration_resources(moto_aws: None) -> LocalResources:
    template = synthesize({"callfireApiKeySecretName": API_KEY_SECRET_NAME})
    session = boto3.session.Session(region_name=REGION)
    resources = create_resources(template, session.client, region=REGION, stack_name="reg")
    secrets = session.client("secretsmanager")
    try:
        secrets.create_secret(Name=API_KEY_SECRET_NAME, SecretString=API_KEY)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=API_KEY_SECRET_NAME, SecretString=API_KEY)
    return resources


@pytest.fixture
def callfire() -> Iterator[StandInCallFire]:
    with StandInCallFire() as standin:
        yield standin


@dataclass
class Registration:
    resource: CustomResource
    callfire: StandInCallFire
    token: str

    @property
    def properties(self) -> dict[str, Any]:
        return {
            **self.resource.properties,
            Prop.CALLFIRE_BASE_URL: self.callfire.url,
        }

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        handler = load_handler(self.resource.function.handler)
        result: dict[str, Any] = handler(event, lambda_context(self.resource.function, REGION))
        return result

    def create(self, **changes: Any) -> dict[str, Any]:
        return self.invoke(
            custom_resource_event(
                "Create",
                {**self.properties, **changes},
                logical_id=self.resource.logical_id,
                resource_type=self.resource.resource_type,
            )
        )

    def failure(self, **changes: Any) -> str:
        with pytest.raises(RegistrationFailed) as raised:
            self.create(**changes)
        message = str(raised.value)
        assert API_KEY not in message
        assert self.token not in message
        return message

    def seen(self, path: str) -> int:
        return sum(1 for request in self.callfire.requests if request.path == path)

    @property
    def post_url(self) -> str:
        return f"{self.resource.properties[Prop.POSTBACK_URL]}?token={self.token}"


@pytest.fixture
def registration(
    registration_resources: LocalResources,
    aws: Callable[[str], Any],
    callfire: StandInCallFire,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Registration]:
    (resource,) = registration_resources.custom_resources()
    for name, value in resource.function.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(wiring, "POLICY", FAST)
    token_arn = resource.properties[Prop.TOKEN_SECRET_ARN]
    token = aws("secretsmanager").get_secret_value(SecretId=token_arn)["SecretString"]
    reset_function_state()
    yield Registration(resource, callfire, token)
    reset_function_state()


def test_create_subscribes_both_kinds_with_the_key_and_the_tokened_url(
    registration: Registration, log_output: list[str]
) -> None:
    result = registration.create()

    assert registration.callfire.subscriptions == [
        Subscription("callfinish", None, API_KEY, registration.post_url),
        Subscription("campaignfinish", None, API_KEY, registration.post_url),
    ]
    assert result["PhysicalResourceId"].startswith("callfire-subscription-")
    assert result["Data"] == {
        Prop.POSTBACK_URL: registration.resource.properties[Prop.POSTBACK_URL],
        "Subscriptions": "2",
    }
    said = json.dumps(result) + "\n".join(log_output)
    assert API_KEY not in said
    assert registration.token not in said
    assert any('"subscribed with CallFire"' in line for line in log_output)


def test_form_is_url_encoded_as_callfire_documents(registration: Registration) -> None:
    registration.create()

    (request, _) = registration.callfire.requests
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.body.startswith(b"apikey=cf-live%2Fkey%2Bwith%26odd%3Dchars&postUrl=https%3A")


def test_the_answer_exactly_as_the_document_prints_it_is_success(
    registration: Registration,
) -> None:
    for path in (CALLFINISH, CAMPAIGNFINISH):
        registration.callfire.answer("POST", path, Canned(body=SAVED, times=1))

    assert registration.create()["Data"]["Subscriptions"] == "2"


def test_the_other_spellings_are_success_too(registration: Registration) -> None:
    body = b"<reportResponse><description>Saved</description><successful>true</successful>"
    registration.callfire.answer(
        "POST", CALLFINISH, Canned(body=body + b"</reportResponse>", times=1)
    )

    assert registration.create()["Data"]["Subscriptions"] == "2"


def test_plain_event_dict_is_enough(registration: Registration) -> None:
    result = registration.invoke(
        {"RequestType": "Create", "ResourceProperties": registration.properties}
    )

    assert result["Data"]["Subscriptions"] == "2"


def test_per_campaign_ids_subscribe_each_campaign(registration: Registration) -> None:
    registration.create(**{Prop.CAMPAIGN_IDS: ["111", "222"]})

    assert [(s.kind, s.campaign_id) for s in registration.callfire.subscriptions] == [
        ("callfinish", "111"),
        ("campaignfinish", "111"),
        ("callfinish", "222"),
        ("campaignfinish", "222"),
    ]
    assert {s.post_url for s in registration.callfire.subscriptions} == {registration.post_url}


def test_success_false_fails_the_deployment_with_callfires_description(
    registration: Registration, log_output: list[str]
) -> None:
    registration.callfire.answer(
        "POST",
        CALLFINISH,
        Canned(body=report_response(f"API key {API_KEY.replace('&', '&amp;')} is invalid", False)),
    )

    message = registration.failure()

    assert 'said "API key *** is invalid"' in message
    assert "Check the API key in the secret arn:aws:secretsmanager:" in message
    assert registration.seen(CALLFINISH) == 1
    assert registration.seen(CAMPAIGNFINISH) == 0
    assert [json.loads(line).get("reason") for line in log_output][-1] == message
    assert not any(API_KEY in line for line in log_output)


def test_500_is_retried_a_bounded_number_of_times(registration: Registration) -> None:
    registration.callfire.answer("POST", CALLFINISH, Canned(status=500, body=b"oops"))

    message = registration.failure()

    assert registration.seen(CALLFINISH) == 3
    assert "after 3 attempts: CallFire answered HTTP 500" in message
    assert "deploy again later" in message


def test_a_500_that_clears_is_retried_into_success(registration: Registration) -> None:
    registration.callfire.answer("POST", CALLFINISH, Canned(status=500, times=1))

    registration.create()

    assert registration.seen(CALLFINISH) == 2
    assert len(registration.callfire.subscriptions) == 2


def test_a_timeout_is_retried_then_fails_clearly(registration: Registration) -> None:
    """Each answer would come after 1.5 s; every attempt gives up at the policy's 0.5 s."""
    registration.callfire.answer("POST", CALLFINISH, Canned(body=SAVED, delay=1.5))

    message = registration.failure()

    assert registration.seen(CALLFINISH) == 3
    assert "after 3 attempts: CallFire did not answer within 0.5 seconds" in message
    assert "check callfireBaseUrl" in message


def test_an_unreachable_callfire_fails_clearly(registration: Registration) -> None:
    port = registration.callfire.url.rsplit(":", 1)[1]
    registration.callfire.stop()

    message = registration.failure(**{Prop.CALLFIRE_BASE_URL: f"http://127.0.0.1:{port}"})

    assert "after 3 attempts: CallFire could not be reached (Connection refused)" in message


def test_a_malformed_answer_fails_without_retrying(registration: Registration) -> None:
    registration.callfire.answer(
        "POST", CALLFINISH, Canned(body=b"<html><body>Welcome</body></html>")
    )

    message = registration.failure()

    assert registration.seen(CALLFINISH) == 1
    assert "HTTP 200 without its report response (its root element is 'html'" in message
    assert "Check callfireBaseUrl" in message


def test_a_redirect_is_not_followed(registration: Registration) -> None:
    registration.callfire.answer(
        "POST", CALLFINISH, Canned(status=301, headers={"Location": "https://elsewhere/"})
    )

    message = registration.failure()

    assert registration.seen(CALLFINISH) == 1
    assert "HTTP 301, a redirect to https://elsewhere/, not followed" in message


def test_a_missing_api_key_secret_fails_before_calling_callfire(
    registration: Registration,
) -> None:
    missing = registration.properties[Prop.API_KEY_SECRET_ARN].replace("api-key", "nothing")

    message = registration.failure(**{Prop.API_KEY_SECRET_ARN: missing})

    assert "does not exist in this account and region" in message
    assert registration.callfire.requests == []


def test_update_subscribes_again_and_keeps_its_physical_id(
    registration: Registration, log_output: list[str]
) -> None:
    created = registration.create(**{Prop.CAMPAIGN_IDS: ["7"]})

    updated = registration.invoke(
        custom_resource_event(
            "Update",
            registration.properties,
            old_properties={**registration.properties, Prop.CAMPAIGN_IDS: ["7"]},
            physical_resource_id=created["PhysicalResourceId"],
        )
    )

    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert [(s.kind, s.campaign_id) for s in registration.callfire.subscriptions] == [
        ("callfinish", "7"),
        ("campaignfinish", "7"),
        ("callfinish", None),
        ("campaignfinish", None),
    ]
    assert any("still subscribed" in line and "campaign 7" in line for line in log_output)


def test_delete_does_nothing_but_log_what_stays_subscribed(
    registration: Registration, log_output: list[str]
) -> None:
    result = registration.invoke(
        custom_resource_event(
            "Delete", registration.properties, physical_resource_id="callfire-subscription-x"
        )
    )

    assert result == {"PhysicalResourceId": "callfire-subscription-x"}
    assert registration.callfire.requests == []
    assert any("no unsubscribe" in line for line in log_output)


def test_secrets_manager_hanging_fails_the_deployment_in_time(
    registration: Registration,
) -> None:
    """The function fails with its own message before Lambda's timeout would cut it off (and
    leave CloudFormation waiting for the custom resource's ServiceTimeout)."""
    event = custom_resource_event(
        "Create",
        registration.properties,
        logical_id=registration.resource.logical_id,
        resource_type=registration.resource.resource_type,
    )
    handler = load_handler(registration.resource.function.handler)

    with SilentServer() as silent, hanging("secretsmanager", silent):
        context = lambda_context(registration.resource.function, REGION, timeout_seconds=10)
        with pytest.raises(RegistrationFailed) as raised:
            handler(event, context)

    assert context.get_remaining_time_in_millis() > 0
    message = str(raised.value)
    assert "could not be read" in message
    assert ("ReadTimeoutError" in message) or ("OutOfTime" in message)
    assert registration.callfire.requests == []


def recorded(registration: Registration, aws: Callable[[str], Any]) -> dict[str, Any]:
    bucket = registration.resource.function.environment[Env.BUCKET]
    body = aws("s3").get_object(Bucket=bucket, Key=StatusObject.REGISTRATION)["Body"].read()
    record: dict[str, Any] = json.loads(body)
    return record


def test_a_create_records_its_result_in_the_bucket_for_make_status(
    registration: Registration, aws: Callable[[str], Any]
) -> None:
    registration.create()

    record = recorded(registration, aws)
    assert record[Record.RESULT] == Record.SUBSCRIBED
    assert record[Record.SUBSCRIPTIONS] == [
        "callfinish (account-wide)",
        "campaignfinish (account-wide)",
    ]
    assert record[Record.FUNCTION] == registration.resource.function.logical_id
    assert record[Record.PROPERTIES][Prop.CALLFIRE_BASE_URL] == registration.callfire.url
    text = json.dumps(record)
    assert API_KEY not in text
    assert registration.token not in text


def test_a_failure_is_recorded_before_the_deployment_fails(
    registration: Registration, aws: Callable[[str], Any]
) -> None:
    registration.callfire.answer("POST", CALLFINISH, Canned(status=403, body=b"no"))

    message = registration.failure()

    record = recorded(registration, aws)
    assert (record[Record.RESULT], record[Record.MESSAGE]) == (Record.FAILED, message)


def test_the_resubscribe_command_status_prints_subscribes_again(
    registration: Registration, aws: Callable[[str], Any]
) -> None:
    """`make status` prints `aws lambda invoke ... --payload '<json>'` to subscribe again from the
    recorded properties: that payload, handed to the real handler, subscribes again."""
    registration.callfire.answer("POST", CAMPAIGNFINISH, Canned(status=403, body=b"no"))
    registration.failure()
    registration.callfire.answer("POST", CAMPAIGNFINISH, Canned(body=SAVED))
    record = recorded(registration, aws)
    target = Target(
        session=boto3.session.Session(region_name=REGION),
        endpoint_url=None,
        calls_table="calls",
        campaigns_table="campaigns",
        bucket=None,
        recordings_queue=None,
        description="moto",
        stack_name="CallfireReceiver",
        outputs={},
    )
    command = Commands(target, status_parser().parse_args([])).resubscribe(record)
    words = shlex.split(command)

    assert words[:3] == ["aws", "lambda", "invoke"]
    assert words[words.index("--function-name") + 1] == record[Record.FUNCTION]
    assert words[words.index("--cli-binary-format") + 1] == "raw-in-base64-out"
    result = registration.invoke(json.loads(words[words.index("--payload") + 1]))
    assert result["Data"]["Subscriptions"] == "2"
    assert recorded(registration, aws)[Record.RESULT] == Record.SUBSCRIBED
