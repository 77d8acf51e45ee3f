"""The local-only watch on the event bus: a queue fed by a catch-all rule, so that people (and the
tests, and `make demo`) see every event the system publishes. The stack itself declares no rule:
who consumes the events is the user's choice (docs/events.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

WATCH_RULE = "watch-everything"


def watch_bus(client: Callable[[str], Any], *, bus_name: str, source: str, queue_name: str) -> str:
    """Creates the queue and the rule (every event of `source` on the bus); answers the queue's
    URL."""
    sqs = client("sqs")
    queue_url: str = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events = client("events")
    events.put_rule(
        Name=WATCH_RULE, EventBusName=bus_name, EventPattern=json.dumps({"source": [source]})
    )
    events.put_targets(
        Rule=WATCH_RULE, EventBusName=bus_name, Targets=[{"Id": "watch", "Arn": queue_arn}]
    )
    return queue_url


def take_events(sqs: Any, queue_url: str, *, wait_seconds: int = 0) -> list[dict[str, Any]]:
    """Every event waiting on the watch queue (each as EventBridge delivered it), removed from
    it."""
    taken: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds if not taken else 0,
        ).get("Messages", [])
        if not messages:
            return taken
        taken += [json.loads(message["Body"]) for message in messages]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]}
                for n, message in enumerate(messages)
            ],
        )
