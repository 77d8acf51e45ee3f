"""The hourly check: what is wrong with the stack's webhooks, and, asked to, made right."""

from __future__ import annotations

from functions.names import WEBHOOK_SUBSCRIPTIONS
from functions.webhook_registration.health import HealthCheck, check_webhooks
from functions.webhook_registration.manager import WebhookManager
from functions.webhook_registration.spec import desired_webhooks
from tests.fakes import FakeCallfireWebhooks, ManualClock

CALLBACK = "https://api.example/webhooks"
SECRET = "webhook-secret"


def healthy() -> FakeCallfireWebhooks:
    api = FakeCallfireWebhooks()
    for spec in desired_webhooks("Receiver"):
        api.create(spec.body(CALLBACK, SECRET))
    api.calls.clear()
    return api


def run(api: FakeCallfireWebhooks, *, repair: bool) -> tuple[dict[str, list[str]], list[str]]:
    clock = ManualClock()
    manager = WebhookManager(api, sleep=clock.sleep, clock=clock)
    report = check_webhooks(
        manager,
        HealthCheck("Receiver", CALLBACK, repair),
        secret=SECRET if repair else None,
        deadline=clock.now + 60,
    )
    return report.problems, report.repaired


def test_webhooks_as_they_should_be_are_healthy() -> None:
    api = healthy()

    assert run(api, repair=True) == ({}, [])
    assert api.writes() == []


def test_a_missing_a_disabled_and_a_misdirected_webhook_are_found() -> None:
    api = healthy()
    by_name = {webhook["name"]: webhook_id for webhook_id, webhook in api.webhooks.items()}
    del api.webhooks[by_name["Receiver-OutboundCall"]]
    api.webhooks[by_name["Receiver-LowBalance"]]["enabled"] = False
    api.webhooks[by_name["Receiver-InboundText"]]["callback"] = "https://old.example/webhooks"

    problems, repaired = run(api, repair=False)

    assert problems == {
        "Receiver-OutboundCall": ["missing"],
        "Receiver-InboundText": ["posts elsewhere"],
        "Receiver-LowBalance": ["disabled"],
    }
    assert repaired == []
    assert api.writes() == []


def test_repair_recreates_and_re_enables_them() -> None:
    api = healthy()
    by_name = {webhook["name"]: webhook_id for webhook_id, webhook in api.webhooks.items()}
    del api.webhooks[by_name["Receiver-OutboundCall"]]
    api.webhooks[by_name["Receiver-LowBalance"]]["enabled"] = False

    problems, repaired = run(api, repair=True)

    assert set(problems) == set(repaired) == {"Receiver-OutboundCall", "Receiver-LowBalance"}
    assert len(api.webhooks) == len(WEBHOOK_SUBSCRIPTIONS)
    assert all(webhook["enabled"] for webhook in api.webhooks.values())
    assert run(api, repair=False) == ({}, [])
