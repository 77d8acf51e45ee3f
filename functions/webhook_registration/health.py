"""The hourly check of the stack's CallFire webhooks: each must exist, be enabled, post to the
stack's `/webhooks` and carry its events; with repair on, what is wrong is made right again (the
webhook recreated, or updated with the stack's secret and enabled)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from functions.names import SERVICE_NAME
from functions.webhook_registration.manager import WebhookManager
from functions.webhook_registration.spec import desired_webhooks

logger = Logger(service=SERVICE_NAME)


@dataclass(frozen=True, slots=True)
class HealthReport:
    problems: dict[str, list[str]]
    """By webhook name, what was wrong when checked (only those with something wrong)."""
    repaired: list[str] = field(default_factory=list)

    @property
    def unhealthy(self) -> int:
        return len(self.problems)


@dataclass(frozen=True, slots=True)
class HealthCheck:
    name_prefix: str
    callback: str
    repair: bool


def check_webhooks(
    manager: WebhookManager,
    check: HealthCheck,
    *,
    secret: str | None,
    deadline: float,
) -> HealthReport:
    """Raises CallfireUnavailable or CallfireRefused when CallFire cannot say."""
    specs = desired_webhooks(check.name_prefix)
    found = manager.check(specs, check.callback, deadline=deadline)
    problems = {name: wrong for name, wrong in found.items() if wrong}
    if problems:
        logger.warning("webhooks not as they should be", extra={"problems": problems})
    else:
        logger.info("every webhook is as it should be", extra={"webhooks": len(specs)})
    if not (check.repair and problems and secret):
        return HealthReport(problems)
    repaired = []
    for spec in specs:
        if spec.name in problems:
            manager.ensure_one(spec, check.callback, secret, deadline=deadline)
            repaired.append(spec.name)
    logger.warning("webhooks repaired", extra={"webhooks": repaired})
    return HealthReport(problems, repaired)
