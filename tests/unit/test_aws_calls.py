"""AWS calls bounded by a deadline (functions/adapters/aws.py), over a client that takes as long
as its timeouts allow, on a clock that moves only when it does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from functions.adapters.aws import (
    ATTEMPTS,
    EXPECT_CONTINUE_SECONDS,
    NORMAL_TIER,
    TIERS,
    AwsService,
    OutOfTime,
    Tier,
    attempt_seconds,
    error_code,
)
from tests.fakes import ManualClock


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutItem",
    )


@dataclass
class HangingClient:
    """Every call waits for the whole of its tier's timeouts, then fails with `outcome` (or
    answers, once `outcome` runs out)."""

    tier: Tier
    clock: ManualClock
    outcomes: Iterator[Exception | None]
    calls: list[tuple[Tier, dict[str, Any]]] = field(default_factory=list)

    def put_item(self, **parameters: Any) -> dict[str, Any]:
        self.calls.append((self.tier, parameters))
        outcome = next(self.outcomes, None)
        if outcome is None:
            self.clock.advance(0.01)
            return {"ok": True}
        self.clock.advance(attempt_seconds("dynamodb", self.tier))
        raise outcome


@dataclass
class World:
    clock: ManualClock = field(default_factory=ManualClock)
    calls: list[tuple[Tier, dict[str, Any]]] = field(default_factory=list)

    def service(self, *outcomes: Exception | None, name: str = "dynamodb") -> AwsService:
        remaining = iter(outcomes)

        def make(tier: Tier) -> HangingClient:
            return HangingClient(tier, self.clock, remaining, self.calls)

        return AwsService(name, make, clock=self.clock, sleep=self.clock.sleep, jitter=lambda: 1.0)


@pytest.fixture
def world() -> World:
    return World()


def timeout() -> ReadTimeoutError:
    return ReadTimeoutError(endpoint_url="http://dynamodb")


def test_each_attempt_takes_the_largest_tier_that_fits_in_the_time_left(world: World) -> None:
    service = world.service(timeout(), timeout(), timeout())
    deadline = world.clock() + attempt_seconds("dynamodb", NORMAL_TIER) + 1.6

    with pytest.raises(ReadTimeoutError):
        service.call("put_item", deadline, TableName="t")

    used = [tier for tier, _ in world.calls]
    assert used[0] == NORMAL_TIER
    assert used[1] == TIERS[1]
    assert world.clock() <= deadline


def test_no_attempt_may_run_past_the_deadline(world: World) -> None:
    for seconds_left in (0.6, 1.0, 2.0, 3.3, 4.0, 5.2, 9.0, 30.0):
        world.clock.now = 1000.0
        world.calls.clear()
        service = world.service(*[timeout()] * ATTEMPTS)

        with pytest.raises((ReadTimeoutError, OutOfTime)):
            service.call("put_item", 1000.0 + seconds_left)

        assert world.clock() <= 1000.0 + seconds_left
        assert 1 <= len(world.calls) <= ATTEMPTS


def test_throttling_is_tried_again_while_time_is_left_then_answered(world: World) -> None:
    service = world.service(client_error("ProvisionedThroughputExceededException", 400), None)

    assert service.call("put_item", world.clock() + 20, Item={}) == {"ok": True}
    assert len(world.calls) == 2
    assert world.clock.pauses
    assert world.clock.pauses[0] <= 0.05


def test_a_refusal_that_will_not_change_is_not_tried_again(world: World) -> None:
    service = world.service(client_error("ConditionalCheckFailedException", 400))

    with pytest.raises(ClientError) as raised:
        service.call("put_item", world.clock() + 20)

    assert error_code(raised.value) == "ConditionalCheckFailedException"
    assert len(world.calls) == 1


def test_at_most_the_configured_attempts_however_much_time_is_left(world: World) -> None:
    service = world.service(*[client_error("InternalServerError", 500)] * 10)

    with pytest.raises(ClientError):
        service.call("put_item", world.clock() + 3600)

    assert len(world.calls) == ATTEMPTS


def test_with_no_time_for_even_the_shortest_attempt_nothing_is_sent(world: World) -> None:
    service = world.service(None)
    shortest = attempt_seconds("dynamodb", TIERS[-1])

    with pytest.raises(OutOfTime) as raised:
        service.call("put_item", world.clock() + shortest - 0.01)

    assert world.calls == []
    assert error_code(raised.value) == "OutOfTime"


def test_an_s3_attempt_counts_botocores_wait_for_100_continue() -> None:
    """botocore sends an S3 body after `Expect: 100-continue` and waits up to a second for the
    server before sending it anyway (botocore/awsrequest.py), on top of the timeouts."""
    tier = Tier(0.5, 1.0)

    assert (
        attempt_seconds("s3", tier) == attempt_seconds("dynamodb", tier) + EXPECT_CONTINUE_SECONDS
    )
    assert attempt_seconds("dynamodb", tier) == 0.5 + 1.0
    assert attempt_seconds("dynamodb", Tier(2.0, 1.0)) == 2.0 + 2.0, "a blocked send waits too"
