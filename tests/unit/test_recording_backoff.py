"""Back-off through the queue: growing delays, the server's Retry-After, no wait after the last."""

from __future__ import annotations

import pytest

from functions.recordings.backoff import MAX_VISIBILITY_SECONDS, retry_delay


def no_jitter() -> float:
    return 0.0


def full_jitter() -> float:
    return 1.0


@pytest.mark.parametrize(
    ("attempt", "delay"), [(0, 60), (1, 60), (2, 240), (3, 960), (4, 3600), (9, 3600)]
)
def test_delays_grow_and_are_capped(attempt: int, delay: int) -> None:
    assert retry_delay(attempt, 10, jitter=no_jitter) == delay


def test_jitter_takes_off_at_most_a_fifth() -> None:
    assert retry_delay(2, 5, jitter=full_jitter) == 192
    assert 192 <= retry_delay(2, 5) <= 240


def test_after_the_last_attempt_the_message_is_not_hidden() -> None:
    assert retry_delay(5, 5, jitter=no_jitter) == 0
    assert retry_delay(6, 5, jitter=no_jitter) == 0


def test_retry_after_lengthens_but_never_shortens_the_delay() -> None:
    assert retry_delay(1, 5, retry_after=600, jitter=no_jitter) == 600
    assert retry_delay(3, 5, retry_after=5, jitter=no_jitter) == 960
    assert retry_delay(1, 5, retry_after=0.2, jitter=no_jitter) == 60
    assert retry_delay(1, 5, retry_after=10**9, jitter=no_jitter) == MAX_VISIBILITY_SECONDS
