"""The custom resource that keeps the stack's CallFire v2 webhooks, as CloudFormation's lifecycle
asks: Create and Update create each webhook, or update the one that has its name (PUT), pointing
at `/webhooks` with the stack's secret; an Update that changes nothing asks CallFire nothing;
Delete deletes them, and never fails the stack's deletion (what CallFire keeps is logged). Every
message, logged or raised, has the credentials and the webhook secret redacted."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger

from functions.credentials import Credentials, InvalidCredentials, read_credentials
from functions.failures import SecretUnavailable
from functions.names import SERVICE_NAME, WebhookResource
from functions.redaction import Redactor
from functions.webhook_registration.manager import RetryPolicy, WebhookManager
from functions.webhook_registration.ports import (
    CallfireRefused,
    CallfireUnavailable,
    CallfireWebhooks,
    SecretSource,
)
from functions.webhook_registration.spec import desired_webhooks

logger = Logger(service=SERVICE_NAME)

PHYSICAL_ID_PREFIX = "callfire-webhooks-"
ApiFactory = Callable[[str, Credentials], CallfireWebhooks]
"""CallFire's v2 webhooks API at a base URL, with credentials."""


class RequestType(StrEnum):
    CREATE = "Create"
    UPDATE = "Update"
    DELETE = "Delete"


class RegistrationFailed(Exception):
    """The deployment must fail. The message is what CloudFormation shows; it holds no secret."""


class InvalidProperties(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    webhook_url: str
    base_url: str
    credentials_secret_arn: str
    webhook_secret_arn: str
    name_prefix: str


def request_from(properties: Mapping[str, Any]) -> WebhookRequest:
    """Raises InvalidProperties (naming the property; none holds a secret)."""
    values = {}
    for name in (
        WebhookResource.WEBHOOK_URL,
        WebhookResource.CALLFIRE_V2_BASE_URL,
        WebhookResource.CREDENTIALS_SECRET_ARN,
        WebhookResource.WEBHOOK_SECRET_ARN,
        WebhookResource.NAME_PREFIX,
    ):
        value = properties.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidProperties(f"the custom resource property {name} is missing or empty")
        values[name] = value.strip()
    for name in (WebhookResource.WEBHOOK_URL, WebhookResource.CALLFIRE_V2_BASE_URL):
        parts = urlsplit(values[name])
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidProperties(f"the custom resource property {name} is not an http(s) URL")
    return WebhookRequest(
        webhook_url=values[WebhookResource.WEBHOOK_URL],
        base_url=values[WebhookResource.CALLFIRE_V2_BASE_URL].rstrip("/"),
        credentials_secret_arn=values[WebhookResource.CREDENTIALS_SECRET_ARN],
        webhook_secret_arn=values[WebhookResource.WEBHOOK_SECRET_ARN],
        name_prefix=values[WebhookResource.NAME_PREFIX],
    )


def physical_id(name_prefix: str) -> str:
    return PHYSICAL_ID_PREFIX + hashlib.sha256(name_prefix.encode()).hexdigest()[:16]


class WebhookRegistration:
    def __init__(
        self,
        *,
        secrets: SecretSource,
        api: ApiFactory,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secrets = secrets
        self._api = api
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock

    def on_event(self, event: Mapping[str, Any], *, deadline: float) -> dict[str, Any]:
        """A Provider-framework on_event answer. Raises RegistrationFailed."""
        request_type = event.get("RequestType")
        try:
            request = request_from(event.get("ResourceProperties") or {})
        except InvalidProperties as error:
            if request_type == RequestType.DELETE:
                logger.warning("nothing to delete: the properties name no webhooks")
                return {"PhysicalResourceId": event.get("PhysicalResourceId") or physical_id("")}
            raise RegistrationFailed(f"The webhooks cannot be registered: {error}.") from None
        existing = event.get("PhysicalResourceId") or physical_id(request.name_prefix)
        if request_type == RequestType.DELETE:
            self._delete(request, deadline)
            return {"PhysicalResourceId": existing}
        if request_type not in (RequestType.CREATE, RequestType.UPDATE):
            raise RegistrationFailed(f"Unknown RequestType {str(request_type)[:20]!r}.")
        if request_type == RequestType.UPDATE and _unchanged(event):
            logger.info("the webhooks' settings did not change; CallFire is not asked")
            return {"PhysicalResourceId": existing, "Data": _data(request)}
        self._ensure(request, deadline)
        return {"PhysicalResourceId": existing, "Data": _data(request)}

    def _ensure(self, request: WebhookRequest, deadline: float) -> None:
        credentials = self._credentials(request, deadline)
        secret = self._read(request.webhook_secret_arn, "webhook secret", deadline)
        redact = Redactor([credentials.username, credentials.password, secret])
        manager = self._manager(request, credentials)
        specs = desired_webhooks(request.name_prefix)
        done: list[str] = []
        for spec in specs:
            try:
                manager.ensure_one(spec, request.webhook_url, secret, deadline=deadline)
            except (CallfireUnavailable, CallfireRefused) as error:
                raise RegistrationFailed(
                    redact(_failure(request, spec.name, error, done))
                ) from None
            done.append(spec.name)
        logger.info(
            "webhooks registered with CallFire",
            extra={"webhooks": done, "callback": request.webhook_url},
        )

    def _delete(self, request: WebhookRequest, deadline: float) -> None:
        specs = desired_webhooks(request.name_prefix)
        names = [spec.name for spec in specs]
        try:
            credentials = self._credentials(request, deadline)
        except RegistrationFailed as failure:
            logger.warning(
                "the webhooks stay in CallFire: they could not be deleted",
                extra={"webhooks": names, "reason": str(failure)},
            )
            return
        redact = Redactor([credentials.username, credentials.password])
        outcome = self._manager(request, credentials).remove(specs, deadline=deadline)
        left = {name: redact(why) for name, why in outcome.items() if why != "deleted"}
        if left:
            logger.warning(
                "some webhooks stay in CallFire: delete them there "
                "(docs/configuration.md: CallFire API v2 webhooks)",
                extra={"left": left, "callfireV2BaseUrl": request.base_url},
            )
        else:
            logger.info("webhooks deleted from CallFire", extra={"webhooks": names})

    def _manager(self, request: WebhookRequest, credentials: Credentials) -> WebhookManager:
        return WebhookManager(
            self._api(request.base_url, credentials),
            policy=self._policy,
            sleep=self._sleep,
            clock=self._clock,
        )

    def _credentials(self, request: WebhookRequest, deadline: float) -> Credentials:
        text = self._read(request.credentials_secret_arn, "CallFire API credentials", deadline)
        try:
            return read_credentials(text)
        except InvalidCredentials as error:
            raise RegistrationFailed(
                f"The secret {request.credentials_secret_arn} (CallFire API credentials) is not "
                f'usable: {error}. Put JSON in it: {{"username": "...", "password": "..."}}, '
                "your CallFire API credentials."
            ) from None

    def _read(self, secret_arn: str, what: str, deadline: float) -> str:
        try:
            value = self._secrets.secret_string(secret_arn, deadline=deadline)
        except SecretUnavailable as error:
            raise RegistrationFailed(
                f"The secret {secret_arn} ({what}) could not be read: {error.code}. Check it "
                "exists in this account and region and that its key may be used by the function."
            ) from None
        if not value.strip():
            raise RegistrationFailed(f"The secret {secret_arn} ({what}) is empty.")
        return value


def _unchanged(event: Mapping[str, Any]) -> bool:
    def settings(properties: Any) -> dict[str, Any]:
        if not isinstance(properties, Mapping):
            return {}
        return {name: value for name, value in properties.items() if name != "ServiceToken"}

    old = settings(event.get("OldResourceProperties"))
    return bool(old) and old == settings(event.get("ResourceProperties"))


def _data(request: WebhookRequest) -> dict[str, str]:
    return {
        WebhookResource.WEBHOOK_URL: request.webhook_url,
        "Webhooks": ", ".join(spec.name for spec in desired_webhooks(request.name_prefix)),
    }


def _failure(
    request: WebhookRequest,
    name: str,
    error: CallfireUnavailable | CallfireRefused,
    done: list[str],
) -> str:
    if isinstance(error, CallfireRefused) and error.status in (401, 403):
        advice = (
            f"Check the CallFire API credentials in the secret {request.credentials_secret_arn} "
            '(JSON {"username": ..., "password": ...}) and that they may manage webhooks.'
        )
    elif isinstance(error, CallfireUnavailable):
        advice = (
            f"CallFire may be down or unreachable: check callfireV2BaseUrl ({request.base_url}) "
            "and deploy again later (registering again is harmless)."
        )
    else:
        advice = f"Check callfireV2BaseUrl ({request.base_url}) and your CallFire account."
    message = f"Registering the CallFire webhook {name} failed: {error}. {advice}"
    if done:
        message += " Already registered by this deployment: " + ", ".join(done) + "."
    return message
