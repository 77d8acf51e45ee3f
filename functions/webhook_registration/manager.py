"""Keeping the stack's webhooks as they should be in CallFire: found by name, created or updated
(PUT), deleted, checked; transient failures tried again while time allows."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from aws_lambda_powertools import Logger

from functions.names import SERVICE_NAME
from functions.webhook_registration.ports import (
    CallfireRefused,
    CallfireUnavailable,
    CallfireWebhooks,
)
from functions.webhook_registration.spec import WebhookSpec

logger = Logger(service=SERVICE_NAME)
T = TypeVar("T")

MIN_ATTEMPT_SECONDS = 2.0
"""Less time than this left before the deadline: no new attempt is started."""
MISSING = "missing"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 8.0

    def backoff(self, retry: int) -> float:
        return min(self.first_backoff_seconds * 2 ** (retry - 1), self.max_backoff_seconds)


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class WebhookManager:
    def __init__(
        self,
        api: CallfireWebhooks,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock

    def ensure(
        self, specs: Sequence[WebhookSpec], callback: str, secret: str, *, deadline: float
    ) -> dict[str, Action]:
        """Each webhook created, or updated in place when one has its name. Raises
        CallfireUnavailable or CallfireRefused at the first that cannot be made."""
        done: dict[str, Action] = {}
        for spec in specs:
            done[spec.name] = self.ensure_one(spec, callback, secret, deadline=deadline)
        return done

    def ensure_one(
        self, spec: WebhookSpec, callback: str, secret: str, *, deadline: float
    ) -> Action:
        found = self._call(lambda: self._api.find(spec.name), deadline)
        body = spec.body(callback, secret)
        if not found:
            webhook_id = self._call(lambda: self._api.create(body), deadline)
            logger.info("webhook created", extra={"webhook": spec.name, "webhookId": webhook_id})
            return Action.CREATED
        first = found[0]
        self._call(lambda: self._api.update(int(first["id"]), body), deadline)
        if len(found) > 1:
            logger.warning(
                "other webhooks share this name and are left as they are",
                extra={"webhook": spec.name, "webhookIds": [w.get("id") for w in found[1:]]},
            )
        logger.info("webhook updated", extra={"webhook": spec.name, "webhookId": first["id"]})
        return Action.UPDATED

    def remove(self, specs: Sequence[WebhookSpec], *, deadline: float) -> dict[str, str]:
        """Every webhook of each name deleted, as far as CallFire lets: never raises. The result
        says, by name, `deleted`, or why it stays."""
        outcome: dict[str, str] = {}
        for spec in specs:
            try:
                for webhook in self._call(lambda spec=spec: self._api.find(spec.name), deadline):
                    self._call(lambda w=webhook: self._api.delete(int(w["id"])), deadline)
                outcome[spec.name] = Action.DELETED.value
            except (CallfireUnavailable, CallfireRefused) as error:
                outcome[spec.name] = f"left in CallFire: {error}"
        return outcome

    def check(
        self, specs: Sequence[WebhookSpec], callback: str, *, deadline: float
    ) -> dict[str, list[str]]:
        """What is wrong with each webhook (`missing`, `disabled`, ...): an empty list when it is
        as it should be. Raises CallfireUnavailable or CallfireRefused."""
        found: dict[str, list[str]] = {}
        for spec in specs:
            webhooks = self._call(lambda spec=spec: self._api.find(spec.name), deadline)
            found[spec.name] = spec.problems(webhooks[0], callback) if webhooks else [MISSING]
        return found

    def _call(self, operation: Callable[[], T], deadline: float) -> T:
        attempt = 0
        while True:
            if deadline - self._clock() < MIN_ATTEMPT_SECONDS:
                raise CallfireUnavailable("the function ran out of time before CallFire answered")
            attempt += 1
            try:
                return operation()
            except CallfireUnavailable as error:
                pause = self._policy.backoff(attempt)
                if (
                    attempt >= self._policy.attempts
                    or self._clock() + pause + MIN_ATTEMPT_SECONDS > deadline
                ):
                    raise
                logger.warning(
                    "CallFire did not answer; trying again",
                    extra={"problem": str(error), "attempt": attempt},
                )
                self._sleep(pause)
