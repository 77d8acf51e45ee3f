"""The unstored watch: the age of the oldest body still waiting for replay, reading as few tags as
it can."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from functions.unstored_watch.ports import ArchivedBody
from functions.unstored_watch.service import UnstoredWatch

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DEADLINE = 1e12
"""The fakes answer at once: no deadline is ever near."""


@dataclass
class Bodies:
    bodies: list[ArchivedBody]
    replayed_keys: set[str] = field(default_factory=set)
    tags_read: list[str] = field(default_factory=list)

    def listing(self, *, deadline: float) -> list[ArchivedBody]:
        return list(self.bodies)

    def replayed(self, key: str, *, deadline: float) -> bool:
        self.tags_read.append(key)
        return key in self.replayed_keys


def body(name: str, days_ago: float) -> ArchivedBody:
    return ArchivedBody(f"unstored/{name}.xml", NOW - timedelta(days=days_ago))


def watch(bodies: Bodies, max_checks: int = 500) -> UnstoredWatch:
    return UnstoredWatch(bodies, max_checks=max_checks, clock=lambda: NOW)


def test_nothing_waiting_is_age_zero() -> None:
    finding = watch(Bodies([])).oldest_waiting(deadline=DEADLINE)

    assert (finding.oldest_age_seconds, finding.oldest_key, finding.checked) == (0, None, 0)


def test_the_oldest_body_not_yet_replayed_gives_the_age() -> None:
    bodies = Bodies(
        [body("new", 1), body("replayed-old", 20), body("waiting", 8), body("replayed", 9)],
        replayed_keys={"unstored/replayed-old.xml", "unstored/replayed.xml"},
    )

    finding = watch(bodies).oldest_waiting(deadline=DEADLINE)

    assert finding.oldest_key == "unstored/waiting.xml"
    assert finding.oldest_age_seconds == 8 * 86400
    assert bodies.tags_read == [
        "unstored/replayed-old.xml",
        "unstored/replayed.xml",
        "unstored/waiting.xml",
    ]
    assert not finding.undecided


def test_every_body_replayed_is_age_zero() -> None:
    bodies = Bodies(
        [body("a", 3), body("b", 2)], replayed_keys={"unstored/a.xml", "unstored/b.xml"}
    )

    finding = watch(bodies).oldest_waiting(deadline=DEADLINE)

    assert (finding.oldest_age_seconds, finding.checked) == (0, 2)


def test_past_the_check_limit_the_next_body_s_age_is_given_and_marked_undecided() -> None:
    bodies = Bodies(
        [body(f"r{n}", 30 - n) for n in range(5)],
        replayed_keys={f"unstored/r{n}.xml" for n in range(5)},
    )

    finding = watch(bodies, max_checks=2).oldest_waiting(deadline=DEADLINE)

    assert finding.undecided
    assert finding.oldest_key == "unstored/r2.xml"
    assert finding.oldest_age_seconds == 28 * 86400
    assert len(bodies.tags_read) == 2
