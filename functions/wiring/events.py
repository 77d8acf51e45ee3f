"""The events service assembled from the environment the stack sets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from functions.adapters.aws import aws_service
from functions.adapters.event_bus import EventBridgePublisher
from functions.events.mapping import EventRules
from functions.events.service import EventsService
from functions.names import DEFAULT_EVENT_SOURCE, DEFAULT_EVENTS_RETRY_SECONDS, Env
from functions.reports.items import Table

ANSWER_SECONDS = 2.0
"""Kept back from the invocation's remaining time to answer the batch (which record failed)."""


@cache
def events_service() -> EventsService:
    env = os.environ
    rules = event_rules(env)
    publisher = EventBridgePublisher(aws_service("events"), env[Env.EVENT_BUS], rules.source)
    return EventsService(publisher, rules)


def event_rules(env: Mapping[str, str]) -> EventRules:
    return EventRules(
        tables={env[Env.CALLS_TABLE]: Table.CALLS, env[Env.CAMPAIGNS_TABLE]: Table.CAMPAIGNS},
        bucket=env[Env.BUCKET],
        source=env.get(Env.EVENT_SOURCE) or DEFAULT_EVENT_SOURCE,
    )


@cache
def retry_seconds() -> float:
    return float(os.environ.get(Env.EVENTS_RETRY_SECONDS, DEFAULT_EVENTS_RETRY_SECONDS))
