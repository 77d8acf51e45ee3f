"""Small helpers the tests share."""

from __future__ import annotations

from pathlib import Path

REGION = "us-east-1"
EVENTS = Path(__file__).parent / "events"


def event_body(name: str) -> bytes:
    """A sample event from `tests/events`, as bytes exactly as stored."""
    return (EVENTS / name).read_bytes()
