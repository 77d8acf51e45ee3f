"""What the unstored watch needs from the bucket. Every call takes a deadline (a
time.monotonic() value) it must end by."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ArchivedBody:
    key: str
    arrived: datetime
    """When the object was written (S3's LastModified): the moment the report arrived."""


class UnstoredBodies(Protocol):
    def listing(self, *, deadline: float) -> Iterable[ArchivedBody]:
        """Every body under `unstored/`. Raises ArchiveUnavailable."""
        ...

    def replayed(self, key: str, *, deadline: float) -> bool:
        """Whether the replay tool has stored this body already (its `replayed` tag).
        Raises ArchiveUnavailable."""
        ...
