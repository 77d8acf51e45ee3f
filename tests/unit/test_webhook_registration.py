"""The webhook registration's rules with in-memory CallFire and secrets: the stack's webhooks
created or updated in place, an update that changes nothing asks nothing, delete never blocks the
stack's deletion, and no message holds a secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.names import WEBHOOK_SUBSCRIPTIONS
from functions.names import WebhookResource as Prop
from functions.webhook_registration.manager import RetryPolicy
from functions.webhook_registration.registration import (
    RegistrationFailed,
    WebhookRegistration,
    physical_id,
)
from functions.webhook_registration.spec import desired_webhooks
from local.events import custom_resource_event
from tests.fakes import FakeCallfireWebhooks, FakeSecrets, ManualClock

CREDENTIALS_ARN = "arn:aws:secretsmanager:eu-west-1:1:secret:callfire/creds"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:1:secret:webhook"
USERNAME, PASSWORD, SECRET = "api-user-7", "p@ss w0rd/+", "webhook-secret-value"
PROPERTIES = {
    Prop.WEBHOOK_URL: "https://api.example/webhooks",
    Prop.CALLFIRE_V2_BASE_URL: "https://api.callfire.com",
    Prop.CREDENTIALS_SECRET_ARN: CREDENTIALS_ARN,
    Prop.WEBHOOK_SECRET_ARN: SECRET_ARN,
    Prop.NAME_PREFIX: "Receiver",
}
FAST = RetryPolicy(attempts=3, first_backoff_seconds=0.5, max_backoff_seconds=1)


def world(
    api: FakeCallfireWebhooks | None = None, credentials: str | None = None
) -> tuple[WebhookRegistration, FakeCallfireWebhooks, ManualClock]:
    api = api or FakeCallfireWebhooks()
    clock = ManualClock()
    secrets = FakeSecrets(
        {
            CREDENTIALS_ARN: credentials
            or json.dumps({"username": USERNAME, "password": PASSWORD}),
            SECRET_ARN: SECRET,
        }
    )
    seen: list[Any] = []

    def factory(base_url: str, given: Any) -> FakeCallfireWebhooks:
        seen.append((base_url, given))
        return api

    service = WebhookRegistration(
        secrets=secrets, api=factory, policy=FAST, sleep=clock.sleep, clock=clock
    )
    return service, api, clock


def event(request_type: str, **changes: Any) -> dict[str, Any]:
    old = {**PROPERTIES} if request_type == "Update" else None
    return custom_resource_event(
        request_type,
        {**PROPERTIES, **changes},
        old_properties=old,
        physical_resource_id=physical_id("Receiver") if request_type != "Create" else None,
    )


def test_the_stack_keeps_one_webhook_per_resource_named_after_it() -> None:
    specs = desired_webhooks("Receiver")

    assert [spec.name for spec in specs] == [f"Receiver-{r}" for r in WEBHOOK_SUBSCRIPTIONS]
    assert {spec.resource: spec.events for spec in specs} == {
        "OutboundCall": ("Finished",),
        "InboundCall": ("Finished",),
        "OutboundText": ("Finished",),
        "InboundText": ("Finished",),
        "CallBroadcast": ("Started", "Stopped", "Finished"),
        "TextBroadcast": ("Started", "Stopped", "Finished"),
        "LowBalance": ("Finished", "Failed"),
    }


def test_create_makes_every_webhook_enabled_never_single_use_with_the_secret() -> None:
    service, api, clock = world()

    answer = service.on_event(event("Create"), deadline=clock.now + 60)

    assert answer["PhysicalResourceId"] == physical_id("Receiver")
    assert len(api.webhooks) == len(WEBHOOK_SUBSCRIPTIONS)
    for webhook in api.webhooks.values():
        assert webhook["callback"] == "https://api.example/webhooks"
        assert (webhook["secret"], webhook["enabled"], webhook["singleUse"]) == (
            SECRET,
            True,
            False,
        )
        assert webhook["name"] == f"Receiver-{webhook['resource']}"


def test_a_webhook_that_has_the_name_is_updated_in_place() -> None:
    api = FakeCallfireWebhooks(
        webhooks={
            7: {
                "id": 7,
                "name": "Receiver-OutboundCall",
                "resource": "OutboundCall",
                "enabled": False,
                "callback": "https://old.example/webhooks",
                "singleUse": True,
            }
        }
    )
    service, api, clock = world(api)

    service.on_event(event("Create"), deadline=clock.now + 60)

    assert api.webhooks[7]["callback"] == "https://api.example/webhooks"
    assert (api.webhooks[7]["enabled"], api.webhooks[7]["singleUse"]) == (True, False)
    updated = [argument[0] for operation, argument in api.writes() if operation == "update"]
    assert updated == [7]
    assert len(api.webhooks) == len(WEBHOOK_SUBSCRIPTIONS)


def test_an_update_that_changes_nothing_asks_callfire_nothing() -> None:
    service, api, clock = world()

    answer = service.on_event(event("Update"), deadline=clock.now + 60)

    assert api.calls == []
    assert answer["PhysicalResourceId"] == physical_id("Receiver")


def test_an_update_that_changes_the_url_updates_every_webhook() -> None:
    service, api, clock = world()
    service.on_event(event("Create"), deadline=clock.now + 60)
    api.calls.clear()

    service.on_event(event("Update", WebhookUrl="https://new.example/webhooks"), deadline=1e9)

    assert [operation for operation, _ in api.writes()] == ["update"] * len(WEBHOOK_SUBSCRIPTIONS)
    assert {w["callback"] for w in api.webhooks.values()} == {"https://new.example/webhooks"}


def test_delete_removes_the_stack_s_webhooks_only() -> None:
    other = {"id": 1, "name": "someone-elses", "resource": "OutboundCall"}
    service, api, clock = world(FakeCallfireWebhooks(webhooks={1: other}))
    service.on_event(event("Create"), deadline=clock.now + 60)

    answer = service.on_event(event("Delete"), deadline=clock.now + 60)

    assert api.webhooks == {1: other}
    assert answer["PhysicalResourceId"] == physical_id("Receiver")


def test_a_callfire_outage_never_blocks_the_delete_and_says_what_stays(
    log_output: list[str],
) -> None:
    service, api, clock = world()
    service.on_event(event("Create"), deadline=clock.now + 60)
    api.down = True

    answer = service.on_event(event("Delete"), deadline=clock.now + 60)

    assert answer["PhysicalResourceId"] == physical_id("Receiver")
    assert len(api.webhooks) == len(WEBHOOK_SUBSCRIPTIONS)
    (line,) = [json.loads(line) for line in log_output if "stay in CallFire" in line]
    assert set(line["left"]) == {spec.name for spec in desired_webhooks("Receiver")}


def test_unreadable_credentials_never_block_the_delete(log_output: list[str]) -> None:
    service, _, clock = world(credentials="not json")

    service.on_event(event("Delete"), deadline=clock.now + 60)

    assert any("could not be deleted" in line for line in log_output)


def test_transient_failures_are_tried_again_then_fail_the_deployment() -> None:
    service, api, clock = world()
    api.down = True

    with pytest.raises(RegistrationFailed) as failed:
        service.on_event(event("Create"), deadline=clock.now + 60)

    assert [operation for operation, _ in api.calls] == ["find"] * 3
    assert clock.pauses == [0.5, 1]
    assert "CallFire may be down" in str(failed.value)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_fail_with_advice_and_no_secret(status: int) -> None:
    service, api, clock = world()
    api.refuse = status

    with pytest.raises(RegistrationFailed) as failed:
        service.on_event(event("Create"), deadline=clock.now + 60)

    message = str(failed.value)
    assert f"HTTP {status}" in message
    assert CREDENTIALS_ARN in message
    for secret in (USERNAME, PASSWORD, SECRET):
        assert secret not in message


@pytest.mark.parametrize(
    ("credentials", "problem"),
    [
        ("user:pass", "it is not JSON"),
        ('["user", "pass"]', "it is not a JSON object"),
        ('{"username": "u"}', "it has no password"),
        ('{"username": "", "password": ""}', "it has no username or password"),
    ],
)
def test_unusable_credentials_fail_the_deployment_saying_why(
    credentials: str, problem: str
) -> None:
    service, api, clock = world(credentials=credentials)

    with pytest.raises(RegistrationFailed, match=problem):
        service.on_event(event("Create"), deadline=clock.now + 60)
    assert api.calls == []


def test_missing_properties_fail_the_deployment() -> None:
    service, _, clock = world()

    with pytest.raises(RegistrationFailed, match="NamePrefix"):
        service.on_event(event("Create", NamePrefix=""), deadline=clock.now + 60)
