"""docs/events.md keeps its word: each example event is valid against its detail type's schema,
and each rule pattern matches exactly the examples it says it matches, on an EventBridge bus
(moto's pattern matching)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.events_out import ROOT, SCHEMAS, schema_file, validate_event

EVENTS_DOC = ROOT / "docs" / "events.md"
BLOCK = re.compile(r"<!-- (example|rule matches): ([^>]+) -->\n```json\n(.*?)\n```", re.DOTALL)


def blocks(kind: str) -> list[tuple[str, Any]]:
    return [
        (label.strip(), json.loads(body))
        for found, label, body in BLOCK.findall(EVENTS_DOC.read_text())
        if found == kind
    ]


EXAMPLES = dict(blocks("example"))
RULES = blocks("rule matches")


def test_every_detail_type_has_a_schema_an_example_and_a_rule() -> None:
    from functions.names import DetailType

    detail_types = {value for name, value in vars(DetailType).items() if not name.startswith("_")}

    assert set(EXAMPLES) == detail_types
    assert {path.name for path in SCHEMAS.glob("*.json")} == {
        schema_file(detail_type).name for detail_type in detail_types
    }
    matched = {name.strip() for label, _ in RULES for name in label.split(",")}
    assert matched == detail_types


@pytest.mark.parametrize("detail_type", sorted(EXAMPLES))
def test_each_example_is_valid_against_its_schema(detail_type: str) -> None:
    example = EXAMPLES[detail_type]

    assert example["detail-type"] == detail_type
    validate_event(example)


@pytest.fixture(scope="module")
def docs_bus(aws: Any) -> tuple[str, str, str]:
    bus = "docs-examples"
    aws("events").create_event_bus(Name=bus)
    queue_url = aws("sqs").create_queue(QueueName="docs-examples")["QueueUrl"]
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return bus, queue_url, queue_arn


@pytest.mark.parametrize(("label", "pattern"), RULES, ids=[label for label, _ in RULES])
def test_each_rule_matches_exactly_the_examples_it_names(
    label: str, pattern: dict[str, Any], aws: Any, docs_bus: tuple[str, str, str]
) -> None:
    bus, queue_url, queue_arn = docs_bus
    aws("events").put_rule(Name="docs-rule", EventBusName=bus, EventPattern=json.dumps(pattern))
    aws("events").put_targets(
        Rule="docs-rule", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}]
    )
    try:
        for example in EXAMPLES.values():
            aws("events").put_events(
                Entries=[
                    {
                        "EventBusName": bus,  # not a names.py name: a PutEvents parameter
                        "Source": example["source"],
                        "DetailType": example["detail-type"],
                        "Detail": json.dumps(example["detail"]),
                        "Resources": example["resources"],
                    }
                ]
            )
        received = aws("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    finally:
        aws("events").remove_targets(Rule="docs-rule", EventBusName=bus, Ids=["queue"])
        aws("events").delete_rule(Name="docs-rule", EventBusName=bus)
    messages = received.get("Messages", [])
    for message in messages:
        aws("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    matched = sorted(json.loads(message["Body"])["detail-type"] for message in messages)
    assert matched == sorted(name.strip() for name in label.split(","))
