"""The webhooks the stack keeps in CallFire: one per resource, named `<stackName>-<resource>`,
pointing at the stack's `/webhooks`, signed with its secret, enabled, never single-use. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.names import WEBHOOK_SUBSCRIPTIONS


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    name: str
    resource: str
    events: tuple[str, ...]

    def body(self, callback: str, secret: str) -> dict[str, Any]:
        """What CallFire is sent to create or update the webhook."""
        return {
            "name": self.name,
            "resource": self.resource,
            "events": list(self.events),
            "callback": callback,
            "secret": secret,
            "enabled": True,
            "singleUse": False,
        }

    def problems(self, found: Mapping[str, Any], callback: str) -> list[str]:
        """What is wrong with a webhook CallFire holds under this name (its secret cannot be
        read back, so it is not compared)."""
        wrong = []
        if found.get("enabled") is False:
            wrong.append("disabled")
        if found.get("singleUse") is True:
            wrong.append("single-use")
        if found.get("callback") != callback:
            wrong.append("posts elsewhere")
        if found.get("resource") != self.resource:
            wrong.append("another resource")
        events = {str(event).lower() for event in found.get("events") or []}
        if not {event.lower() for event in self.events} <= events:
            wrong.append("misses events")
        return wrong


def desired_webhooks(name_prefix: str) -> tuple[WebhookSpec, ...]:
    return tuple(
        WebhookSpec(f"{name_prefix}-{resource}", resource, events)
        for resource, events in WEBHOOK_SUBSCRIPTIONS.items()
    )
