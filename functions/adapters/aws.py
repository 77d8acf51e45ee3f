"""AWS calls, each bounded by the time its invocation has left.

botocore fixes a client's timeouts and retries when the client is made; no call can change them.
So each service has a few clients, one per timeout tier, each made on first use (a healthy
invocation only ever makes the first). A call takes the largest tier whose worst case fits in the
time left before its deadline, makes one attempt with it, and tries again, after a short pause,
only while another attempt still fits. botocore's own retries are off, so nothing else waits.

Deadlines are `time.monotonic()` values, as everywhere in the functions.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from functions.names import SERVICE_NAME

logger = Logger(service=SERVICE_NAME)


@dataclass(frozen=True, slots=True)
class Tier:
    """One client's timeouts: to connect (also each blocked send), and to wait for an answer."""

    connect_seconds: float
    read_seconds: float


TIERS: tuple[Tier, ...] = (Tier(1.0, 3.0), Tier(0.5, 1.0), Tier(0.25, 0.25))
"""Largest first. A healthy AWS answers in milliseconds; the first tier is for a slow one."""
NORMAL_TIER = TIERS[0]
SHORT_TIER = TIERS[1]
ATTEMPTS = 3
"""At most this many attempts per call, fewer when the deadline comes first."""
FIRST_PAUSE_SECONDS = 0.05
"""The pause before attempt n+1 is up to this times 2**(n-1), at random (full jitter)."""
EXPECT_CONTINUE_SECONDS = 1.0
"""botocore sends S3 bodies of 1 MB or more with `Expect: 100-continue` and waits up to one second
for the server's answer before it sends the body anyway (botocore/awsrequest.py, _send_output)."""
_WAITS_FOR_CONTINUE = frozenset({"s3"})
_RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)
"""What botocore's standard retry mode retries besides HTTP 5xx and connection failures
(botocore/retries/standard.py and special.py)."""


class OutOfTime(BotoCoreError):
    """Not even the shortest attempt fits before the deadline: nothing was sent."""

    fmt = "no time left for {operation} ({seconds:.2f} s left)"


def attempt_seconds(service: str, tier: Tier) -> float:
    """The longest one attempt can take against an endpoint that accepts the connection and then
    never answers: connecting, the wait for `100 Continue`, then either a send that blocks (bounded
    by the connect timeout) or the wait for the answer."""
    waits = EXPECT_CONTINUE_SECONDS if service in _WAITS_FOR_CONTINUE else 0.0
    return tier.connect_seconds + waits + max(tier.connect_seconds, tier.read_seconds)


def is_retryable(error: Exception) -> bool:
    if isinstance(error, ConnectionError | HTTPClientError):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500 or error_code(error) in _RETRYABLE_CODES
    return False


ClientFactory = Callable[[Tier], Any]


class AwsService:
    """One AWS service's operations, `call`ed with a deadline."""

    def __init__(
        self,
        service: str,
        make_client: ClientFactory,
        *,
        tiers: Sequence[Tier] = TIERS,
        attempts: int = ATTEMPTS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.service = service
        self._make_client = make_client
        self._tiers = tuple(tiers)
        self._attempts = attempts
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._clients: dict[Tier, Any] = {}

    @classmethod
    def over(cls, client: Any, **options: Any) -> AwsService:
        """Calls through one client made elsewhere (the tools' and the tests'): that client's own
        timeouts apply, and the deadline bounds how many attempts are made."""
        return cls(client.meta.service_model.service_name, lambda _: client, **options)

    def attempt_seconds(self, tier: Tier) -> float:
        return attempt_seconds(self.service, tier)

    def client(self, tier: Tier = NORMAL_TIER) -> Any:
        if tier not in self._clients:
            self._clients[tier] = self._make_client(tier)
        return self._clients[tier]

    def clients(self) -> list[Any]:
        """Every tier's client (made now if need be): what fault injection hooks into."""
        return [self.client(tier) for tier in self._tiers]

    def call(self, operation: str, deadline: float, **parameters: Any) -> dict[str, Any]:
        """`operation` (boto3's snake_case name) with `parameters`, retried while time is left
        when the failure is transient. Raises the last attempt's ClientError or BotoCoreError, or
        OutOfTime; a transient failure given up is logged with every attempt made."""
        tried: list[dict[str, float]] = []
        while True:
            left = deadline - self._clock()
            tier = self._tier_within(left)
            if tier is None:
                self._give_up(operation, tried, left)
                raise OutOfTime(operation=operation, seconds=max(left, 0.0))
            tried.append({"seconds": self.attempt_seconds(tier), "left": round(left, 3)})
            try:
                response: dict[str, Any] = getattr(self.client(tier), operation)(**parameters)
            except (ClientError, BotoCoreError) as error:
                if not is_retryable(error):
                    raise
                if not self._may_retry(len(tried), deadline):
                    self._give_up(operation, tried, deadline - self._clock(), error)
                    raise
                continue
            return response

    def _tier_within(self, seconds: float) -> Tier | None:
        return next((t for t in self._tiers if self.attempt_seconds(t) <= seconds), None)

    def _may_retry(self, attempts: int, deadline: float) -> bool:
        if attempts >= self._attempts:
            return False
        pause = self._jitter() * FIRST_PAUSE_SECONDS * 2 ** (attempts - 1)
        shortest = self.attempt_seconds(self._tiers[-1])
        if self._clock() + pause + shortest > deadline:
            return False
        self._sleep(pause)
        return True

    def _give_up(
        self,
        operation: str,
        tried: list[dict[str, float]],
        left: float,
        error: Exception | None = None,
    ) -> None:
        logger.warning(
            "AWS call given up",
            extra={
                "awsService": self.service,
                "operation": operation,
                "error": error_code(error) if error else "OutOfTime",
                "attempts": tried,
                "secondsLeft": round(left, 3),
            },
        )


@cache
def aws_service(service: str) -> AwsService:
    """The functions' own `service`, its clients made from one session, in this process."""
    return AwsService(service, lambda tier: _tier_client(service, tier))


def _tier_client(service: str, tier: Tier) -> Any:
    from botocore.config import Config

    return _session().client(
        service,
        config=Config(
            connect_timeout=tier.connect_seconds,
            read_timeout=tier.read_seconds,
            retries={"mode": "standard", "total_max_attempts": 1},
        ),
    )


@cache
def _session() -> Any:
    """One session for every client: a session loads endpoint and partition data once."""
    import boto3

    return boto3.session.Session()


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore error (or the exception's class name), never its message."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__
