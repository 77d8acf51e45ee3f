"""Failures of the outside world that every function shares: a dependency that could not be
reached or refused the call. Neutral ground, so that no function's package imports another's to
name them. `code` names the error (an AWS error code or an exception's class), never data."""

from __future__ import annotations


class Unavailable(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class StorageUnavailable(Unavailable):
    """A table could not be read or written."""


class ArchiveUnavailable(Unavailable):
    """A body could not be written to the bucket."""


class QueueUnavailable(Unavailable):
    """A message could not be queued."""


class SecretUnavailable(Unavailable):
    """A secret could not be read."""


class StatusUnavailable(Unavailable):
    """A function's last result could not be recorded under `status/`."""


class NotificationUnavailable(Unavailable):
    """A message could not be published to the alarm topic."""
