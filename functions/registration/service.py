"""Subscribing the postback URL with CallFire, as the custom resource's lifecycle asks.

Create and Update subscribe every endpoint again: CallFire keeps one postUrl per endpoint, so
repeating a subscription is harmless, and that is also what makes retrying a timed-out POST safe.
Delete asks CallFire nothing: the legacy API documents no unsubscribe. Every message this module
writes, logged or raised, has the API key and the token redacted.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger

from functions.failures import SecretUnavailable, StatusUnavailable
from functions.names import (
    DEFAULT_CALLFIRE_BASE_URL,
    SERVICE_NAME,
    RegistrationRecord,
    SubscriptionResource,
)
from functions.registration.answer import MalformedAnswer, read_report_response
from functions.registration.ports import (
    Failure,
    FormPoster,
    HttpAnswer,
    NoAnswer,
    SecretSource,
    StatusRecorder,
)
from functions.registration.redaction import Redactor, excerpt
from functions.registration.subscriptions import (
    Endpoint,
    InvalidProperties,
    SubscriptionRequest,
    physical_id,
    request_from,
    subscription_form,
    with_token,
)

logger = Logger(service=SERVICE_NAME)

MIN_ATTEMPT_SECONDS = 2.0
"""Less time than this left before the deadline: no new attempt is started."""
Redact = Callable[[str], str]


class RequestType(StrEnum):
    CREATE = "Create"
    UPDATE = "Update"
    DELETE = "Delete"


class RegistrationFailed(Exception):
    """The deployment must fail. The message is what CloudFormation shows; it holds no secret."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transient failures (timeouts, connection errors, 5xx, 429) are retried with exponential
    back-off, honouring a Retry-After in seconds, never waiting longer than the cap."""

    attempts: int = 3
    timeout_seconds: float = 10.0
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 8.0

    def backoff(self, retry: int, retry_after: float | None = None) -> float:
        wait = max(self.first_backoff_seconds * 2 ** (retry - 1), retry_after or 0.0)
        return min(wait, self.max_backoff_seconds)


class Advice(StrEnum):
    """What a failure suggests checking."""

    CREDENTIALS = "credentials"
    ADDRESS = "address"
    AVAILABILITY = "availability"


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    transient: bool = False
    problem: str = ""
    advice: Advice = Advice.ADDRESS
    retry_after: float | None = None


SUBSCRIBED = Verdict(ok=True)


def judge(answer: HttpAnswer, redact: Redact) -> Verdict:
    """Whether CallFire's answer means subscribed; only HTTP 200 with a true flag does."""
    try:
        response = read_report_response(answer.body)
    except MalformedAnswer as error:
        response, malformed = None, redact(str(error))
    else:
        malformed = ""
    description = response.description if response else None
    said = f' and said "{excerpt(redact(description), 300)}"' if description else ""
    status = answer.status
    if status == 200 and response is not None:
        if response.success:
            return SUBSCRIBED
        return Verdict(
            ok=False,
            problem=f"CallFire refused the subscription (success=false){said}",
            advice=Advice.CREDENTIALS,
        )
    if status == 200:
        return Verdict(
            ok=False,
            problem=f"CallFire answered HTTP 200 without its report response ({malformed})",
        )
    if status == 429 or status >= 500:
        return Verdict(
            ok=False,
            transient=True,
            problem=f"CallFire answered HTTP {status}{said}",
            advice=Advice.AVAILABILITY,
            retry_after=_seconds(answer.header("Retry-After")),
        )
    if 300 <= status < 400:
        location = answer.header("Location")
        target = f" to {excerpt(redact(location), 200)}" if location else ""
        return Verdict(
            ok=False, problem=f"CallFire answered HTTP {status}, a redirect{target}, not followed"
        )
    advice = Advice.CREDENTIALS if status in (401, 403) else Advice.ADDRESS
    return Verdict(ok=False, problem=f"CallFire answered HTTP {status}{said}", advice=advice)


def no_answer(error: NoAnswer, timeout: float, redact: Redact) -> Verdict:
    detail = excerpt(redact(error.detail), 200)
    if error.failure is Failure.TIMEOUT:
        return Verdict(
            ok=False,
            transient=True,
            problem=f"CallFire did not answer within {timeout:g} seconds",
            advice=Advice.AVAILABILITY,
        )
    if error.failure is Failure.TLS:
        return Verdict(ok=False, problem=f"the TLS connection to CallFire failed ({detail})")
    return Verdict(
        ok=False,
        transient=True,
        problem=f"CallFire could not be reached ({detail})",
        advice=Advice.AVAILABILITY,
    )


def what_to_check(advice: Advice, request: SubscriptionRequest, endpoint: Endpoint) -> str:
    campaign = (
        f", and that campaign {endpoint.campaign_id} exists in that account"
        if endpoint.campaign_id
        else ""
    )
    base_url = (
        f"callfireBaseUrl ({request.base_url}; CallFire's own is {DEFAULT_CALLFIRE_BASE_URL})"
    )
    if advice is Advice.CREDENTIALS:
        return (
            f"Check the API key in the secret {request.api_key_secret_arn} (your CallFire API key, "
            f"as plain text) and that your CallFire account is active and may use the report "
            f"API{campaign}."
        )
    if advice is Advice.AVAILABILITY:
        return (
            f"CallFire may be down or unreachable: check {base_url} and deploy again later "
            f"(subscribing again is harmless); if it persists, check your CallFire account."
        )
    return f"Check {base_url}{campaign}."


class RegistrationService:
    def __init__(
        self,
        *,
        secrets: SecretSource,
        poster: FormPoster,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        status: StatusRecorder | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._secrets = secrets
        self._poster = poster
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._status = status
        self._now = now

    def on_event(
        self, event: Mapping[str, Any], *, deadline: float, function_name: str | None = None
    ) -> dict[str, Any]:
        """A Provider-framework on_event answer: the PhysicalResourceId, and Data on success.
        Raises RegistrationFailed, which fails the deployment with its message. A Create or
        Update records its result (`status/registration.json`) for `make status`;
        `function_name` (this function's) goes into that record, so that it can say how to run
        the subscription again."""
        request_type = event.get("RequestType")
        if request_type == RequestType.DELETE:
            return self._delete(event)
        if request_type not in (RequestType.CREATE, RequestType.UPDATE):
            raise RegistrationFailed(
                f"Unknown RequestType {str(request_type)[:20]!r}: "
                "expected Create, Update or Delete."
            )
        record = _Record(str(request_type), function_name)
        try:
            answer = self._subscribe_on(event, request_type, deadline, record)
        except RegistrationFailed as failure:
            self._record(record.failed(str(failure)), deadline)
            raise
        self._record(record.subscribed(), deadline)
        return answer

    def _subscribe_on(
        self, event: Mapping[str, Any], request_type: str, deadline: float, record: _Record
    ) -> dict[str, Any]:
        try:
            request = request_from(event.get("ResourceProperties") or {})
        except InvalidProperties as error:
            raise RegistrationFailed(f"The subscription cannot be made: {error}.") from None
        record.request = request
        endpoints = self.subscribe(request, deadline=deadline)
        record.endpoints = endpoints
        existing = event.get("PhysicalResourceId")
        if request_type == RequestType.UPDATE:
            _log_left_subscribed(event.get("OldResourceProperties"), request)
        return {
            # Kept for the resource's life, so CloudFormation never replaces it (and never sends
            # the Delete a replacement would): an Update subscribes again in place.
            "PhysicalResourceId": (
                existing
                if request_type == RequestType.UPDATE and existing
                else physical_id(request.postback_url)
            ),
            "Data": {
                SubscriptionResource.POSTBACK_URL: request.postback_url,
                "Subscriptions": str(len(endpoints)),
            },
        }

    def subscribe(self, request: SubscriptionRequest, *, deadline: float) -> tuple[Endpoint, ...]:
        """Subscribe every endpoint of `request`, in order; the endpoints subscribed.
        Raises RegistrationFailed at the first that fails."""
        api_key = self._read(request.api_key_secret_arn, "CallFire API key", request, deadline)
        token = self._read(request.token_secret_arn, "postback token", request, deadline)
        redact = Redactor([api_key, token])
        form = subscription_form(api_key, with_token(request.postback_url, token))
        logger.info(
            "subscribing with CallFire",
            extra={
                "postbackUrl": redact(request.postback_url),
                "callfireBaseUrl": redact(request.base_url),
                "endpoints": [str(endpoint) for endpoint in request.endpoints],
            },
        )
        done: list[Endpoint] = []
        for endpoint in request.endpoints:
            url = endpoint.url(request.base_url)
            try:
                verdict, attempts = self._post(url, form, deadline, redact)
            except Exception as error:
                # A fault here, not CallFire's answer: report it, still without either secret.
                logger.error(
                    "unexpected failure",
                    extra={"traceback": redact(traceback.format_exc())},
                )
                raise RegistrationFailed(
                    redact(f"Subscribing {endpoint} failed unexpectedly: {error!r}")
                ) from None
            if not verdict.ok:
                raise RegistrationFailed(
                    redact(
                        _failure_message(
                            request, endpoint, url, verdict=verdict, attempts=attempts, done=done
                        )
                    )
                )
            logger.info(
                "subscribed with CallFire",
                extra={"endpoint": str(endpoint), "url": redact(url), "attempts": attempts},
            )
            done.append(endpoint)
        return tuple(done)

    def _post(self, url: str, form: bytes, deadline: float, redact: Redact) -> tuple[Verdict, int]:
        """The verdict on the last attempt, and how many attempts were made."""
        verdict = Verdict(
            ok=False,
            problem="the registration function ran out of time before it could ask CallFire",
            advice=Advice.AVAILABILITY,
        )
        attempt = 0
        while attempt < self._policy.attempts:
            remaining = deadline - self._clock()
            if remaining < MIN_ATTEMPT_SECONDS:
                break
            attempt += 1
            timeout = min(self._policy.timeout_seconds, remaining)
            try:
                verdict = judge(self._poster.post_form(url, form, timeout=timeout), redact)
            except NoAnswer as error:
                verdict = no_answer(error, timeout, redact)
            if verdict.ok or not verdict.transient or attempt == self._policy.attempts:
                break
            pause = self._policy.backoff(attempt, verdict.retry_after)
            if self._clock() + pause + MIN_ATTEMPT_SECONDS > deadline:
                break
            logger.warning(
                "CallFire did not take the subscription; trying again",
                extra={"url": redact(url), "problem": verdict.problem, "attempt": attempt},
            )
            self._sleep(pause)
        return verdict, attempt

    def _read(
        self, secret_arn: str, what: str, request: SubscriptionRequest, deadline: float
    ) -> str:
        try:
            value = self._secrets.secret_string(secret_arn, deadline=deadline).strip()
        except SecretUnavailable as error:
            raise RegistrationFailed(_secret_message(secret_arn, what, error.code)) from None
        if not value:
            raise RegistrationFailed(
                f"The secret {secret_arn} ({what}) is empty"
                + (
                    ": put your CallFire API key in it, as plain text."
                    if secret_arn == request.api_key_secret_arn
                    else "."
                )
            )
        return value

    def _record(self, record: dict[str, Any], deadline: float) -> None:
        """Keep the result for `make status`; a failure to do so never fails the deployment.
        CallFire is not asked again with less than MIN_ATTEMPT_SECONDS left, which leaves the
        record one short attempt."""
        if self._status is None:
            return
        stamped = {RegistrationRecord.AT: _timestamp(self._now()), **record}
        try:
            self._status.record(stamped, deadline=deadline)
        except StatusUnavailable as error:
            logger.warning(
                "the subscription's result could not be recorded for `make status`",
                extra={"error": error.code},
            )

    def _delete(self, event: Mapping[str, Any]) -> dict[str, Any]:
        try:
            request: SubscriptionRequest | None = request_from(
                event.get("ResourceProperties") or {}
            )
        except InvalidProperties:
            request = None
        details = (
            {
                "postbackUrl": request.postback_url,
                "callfireBaseUrl": request.base_url,
                "endpoints": [str(endpoint) for endpoint in request.endpoints],
            }
            if request
            else {}
        )
        logger.warning(
            "CallFire keeps this subscription: its legacy API has no unsubscribe. Switch the "
            "postbacks off in CallFire (docs/configuration.md: Switching the postbacks off) or "
            "they go on to a URL that is gone.",
            extra=details,
        )
        existing = event.get("PhysicalResourceId")
        if not existing:
            existing = physical_id(request.postback_url) if request else physical_id("")
        return {"PhysicalResourceId": existing}


class _Record:
    """What a Create or Update did, as `status/registration.json` holds it (RegistrationRecord).
    The request holds secret ARNs, never values; the failure message is redacted already."""

    def __init__(self, request_type: str, function_name: str | None) -> None:
        self.request_type = request_type
        self.function_name = function_name
        self.request: SubscriptionRequest | None = None
        self.endpoints: tuple[Endpoint, ...] = ()

    def subscribed(self) -> dict[str, Any]:
        return self._fields(RegistrationRecord.SUBSCRIBED)

    def failed(self, message: str) -> dict[str, Any]:
        return {**self._fields(RegistrationRecord.FAILED), RegistrationRecord.MESSAGE: message}

    def _fields(self, result: str) -> dict[str, Any]:
        fields: dict[str, Any] = {
            RegistrationRecord.RESULT: result,
            RegistrationRecord.REQUEST_TYPE: self.request_type,
            RegistrationRecord.SUBSCRIPTIONS: [str(endpoint) for endpoint in self.endpoints],
        }
        if self.function_name:
            fields[RegistrationRecord.FUNCTION] = self.function_name
        if self.request is not None:
            fields[RegistrationRecord.PROPERTIES] = {
                SubscriptionResource.POSTBACK_URL: self.request.postback_url,
                SubscriptionResource.CALLFIRE_BASE_URL: self.request.base_url,
                SubscriptionResource.CAMPAIGN_IDS: list(self.request.campaign_ids),
                SubscriptionResource.API_KEY_SECRET_ARN: self.request.api_key_secret_arn,
                SubscriptionResource.TOKEN_SECRET_ARN: self.request.token_secret_arn,
            }
        return fields


def _timestamp(moment: datetime) -> str:
    """UTC with milliseconds, as items' `receivedAt`: `2026-11-28T05:26:07.123Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _failure_message(
    request: SubscriptionRequest,
    endpoint: Endpoint,
    url: str,
    *,
    verdict: Verdict,
    attempts: int,
    done: list[Endpoint],
) -> str:
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    message = (
        f"Subscribing the postback URL with CallFire failed for {endpoint} at {url}{tries}: "
        f"{verdict.problem}. {what_to_check(verdict.advice, request, endpoint)}"
    )
    if done:
        message += " Already subscribed by this deployment: " + ", ".join(map(str, done)) + "."
    return message


def _secret_message(secret_arn: str, what: str, code: str) -> str:
    if code == "ResourceNotFoundException":
        return (
            f"The secret {secret_arn} ({what}) does not exist in this account and region. "
            "Create it (`aws secretsmanager create-secret --name <name> --secret-string "
            '"$CALLFIRE_API_KEY"`) or set callfireApiKeySecretName to the name of the secret that '
            "holds the key."
        )
    if code in {"AccessDeniedException", "DecryptionFailure", "KMSAccessDeniedException"}:
        return (
            f"The registration function may not read the secret {secret_arn} ({what}): {code}. "
            f"If the secret is encrypted with your own KMS key, let the function's role use it "
            f"(kms:Decrypt), or keep the secret under the default aws/secretsmanager key."
        )
    return (
        f"The secret {secret_arn} ({what}) could not be read: {code}. Deploy again; if it "
        f"persists, check the secret in the Secrets Manager console."
    )


def _log_left_subscribed(old_properties: Any, request: SubscriptionRequest) -> None:
    """Log the subscriptions the previous properties made that this update did not replace."""
    if not isinstance(old_properties, Mapping):
        return
    try:
        old = request_from(old_properties)
    except InvalidProperties:
        return
    replaced = set(request.endpoints) if old.base_url == request.base_url else set()
    left = [endpoint for endpoint in old.endpoints if endpoint not in replaced]
    if left:
        logger.warning(
            "no longer asked for, yet still subscribed in CallFire (the legacy API has no "
            "unsubscribe; switch them off in CallFire)",
            extra={
                "postbackUrl": old.postback_url,
                "callfireBaseUrl": old.base_url,
                "endpoints": [str(endpoint) for endpoint in left],
            },
        )


def _seconds(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())
