"""Events out in the template: both tables stream both images; one stream function reads them
through event source mappings that bisect, retry a bounded number of times, give up on old
records and name what they gave up in a dead-letter queue with an alarm; the bus with its
archive, or an existing bus; and a role that may put events on that bus only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.names import DEFAULT_EVENTS_RETRY_SECONDS, Env, Handler, Output
from infra.config import ConfigError, ReceiverConfig
from infra.constructs.events import FUNCTION_TIMEOUT, MAX_RECORD_AGE, RETRY_ATTEMPTS
from local.template import synthesize
from tests.infra.test_recordings_stack import arn, granted
from tests.infra.test_stack import only, resources_of

EXISTING_BUS = "arn:aws:events:us-east-1:111122223333:event-bus/shared-events"
STREAM_RETENTION_HOURS = 24
"""DynamoDB keeps stream records for 24 hours ("DynamoDB Streams data retention", DynamoDB
Developer Guide): a record dead-lettered must still be readable for a while after."""


def events_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return only(template, "AWS::Lambda::Function", Handler=Handler.EVENTS)


def tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of(template, "AWS::DynamoDB::Table")


def stream_mappings(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    function_id, _ = events_function(template)
    return {
        mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: mapping["Properties"]
        for mapping in resources_of(template, "AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == {"Ref": function_id}
    }


def dead_letter_queue_id(template: dict[str, Any]) -> str:
    (queue_id,) = [
        logical_id
        for logical_id in resources_of(template, "AWS::SQS::Queue")
        if logical_id.startswith("EventsDeadLetterQueue")
    ]
    return queue_id


def test_both_tables_stream_both_images(template: dict[str, Any]) -> None:
    for table in tables(template).values():
        assert table["Properties"]["StreamSpecification"] == {
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }


def test_each_table_s_stream_feeds_the_events_function_and_never_blocks_on_a_poison_record(
    template: dict[str, Any],
) -> None:
    mappings = stream_mappings(template)
    queue_id = dead_letter_queue_id(template)

    assert set(mappings) == set(tables(template))
    for table_id, properties in mappings.items():
        assert properties["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
        assert properties["StartingPosition"] == "TRIM_HORIZON"
        assert properties["BisectBatchOnFunctionError"] is True
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert 0 < properties["MaximumRetryAttempts"] == RETRY_ATTEMPTS
        assert properties["MaximumRecordAgeInSeconds"] == MAX_RECORD_AGE.to_seconds()
        assert properties["DestinationConfig"] == {
            "OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}
        }
        assert properties["ParallelizationFactor"] == 1
        assert 1 <= properties["BatchSize"] <= 1000
        assert json.loads(properties["FilterCriteria"]["Filters"][0]["Pattern"]) == {
            "eventName": ["INSERT", "MODIFY"]
        }


def test_a_dead_lettered_record_can_still_be_read_again_from_the_stream() -> None:
    assert MAX_RECORD_AGE.to_hours() <= STREAM_RETENTION_HOURS - 12


def test_the_function_s_retries_end_before_its_timeout() -> None:
    assert FUNCTION_TIMEOUT.to_seconds() > DEFAULT_EVENTS_RETRY_SECONDS + 10


def test_the_function_publishes_to_the_stack_s_bus_with_its_source(
    template: dict[str, Any],
) -> None:
    _, function = events_function(template)
    (bus_id,) = resources_of(template, "AWS::Events::EventBus")
    variables = function["Properties"]["Environment"]["Variables"]

    assert variables[Env.EVENT_BUS] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert variables[Env.EVENT_SOURCE] == "callfire.receiver"
    assert float(variables[Env.EVENTS_RETRY_SECONDS]) == DEFAULT_EVENTS_RETRY_SECONDS
    assert function["Properties"]["Runtime"] == "python3.13"
    assert function["Properties"]["Architectures"] == ["arm64"]
    assert function["Properties"]["Timeout"] == FUNCTION_TIMEOUT.to_seconds()
    assert template["Outputs"][Output.EVENT_BUS_NAME]["Value"] == {"Ref": bus_id}
    assert template["Outputs"][Output.EVENTS_DEAD_LETTER_QUEUE]["Value"] == {
        "Ref": dead_letter_queue_id(template)
    }


def test_the_archive_keeps_every_event_of_the_bus_for_thirty_days(
    template: dict[str, Any],
) -> None:
    (bus_id,) = resources_of(template, "AWS::Events::EventBus")
    (archive,) = resources_of(template, "AWS::Events::Archive").values()

    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert archive["Properties"]["RetentionDays"] == 30
    assert archive["Properties"]["EventPattern"] == {"source": ["callfire.receiver"]}


def test_the_role_may_read_the_two_streams_put_on_the_bus_and_dead_letter_nothing_else(
    template: dict[str, Any],
) -> None:
    _, function = events_function(template)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    (bus_id,) = resources_of(template, "AWS::Events::EventBus")
    queue_id = dead_letter_queue_id(template)
    none = json.dumps(None)
    stream_reads = {
        (action, json.dumps({"Fn::GetAtt": [table_id, "StreamArn"]}, sort_keys=True), none)
        for table_id in tables(template)
        for action in (
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        )
    }

    assert "ManagedPolicyArns" not in role
    assert granted(template, role_id) == {
        ("logs:CreateLogStream", arn(log_group_id), none),
        ("logs:PutLogEvents", arn(log_group_id), none),
        ("events:PutEvents", arn(bus_id), none),
        ("sqs:SendMessage", arn(queue_id), none),
        ("sqs:GetQueueAttributes", arn(queue_id), none),
        ("sqs:GetQueueUrl", arn(queue_id), none),
        *stream_reads,
    }


def test_dead_letters_and_a_lagging_stream_raise_alarms_on_the_topic(
    template: dict[str, Any],
) -> None:
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    queue_id = dead_letter_queue_id(template)
    function_id, _ = events_function(template)
    (topic_id,) = resources_of(template, "AWS::SNS::Topic")

    def watching(metric: str, dimension: dict[str, Any]) -> dict[str, Any]:
        (found,) = [
            alarm["Properties"]
            for alarm in alarms.values()
            if alarm["Properties"].get("MetricName") == metric
            and dimension in alarm["Properties"].get("Dimensions", [])
        ]
        return found

    dead_letters = watching(
        "ApproximateNumberOfMessagesVisible",
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}},
    )
    lag = watching("IteratorAge", {"Name": "FunctionName", "Value": {"Ref": function_id}})
    errors = watching("Errors", {"Name": "FunctionName", "Value": {"Ref": function_id}})
    for alarm in (dead_letters, lag, errors):
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert dead_letters["Threshold"] == 1
    assert lag["Threshold"] == 3_600_000


def test_an_existing_bus_is_used_as_it_is_with_no_bus_or_archive_of_its_own() -> None:
    template = synthesize({"eventBusArn": EXISTING_BUS, "eventSource": "acme.callfire"})
    _, function = events_function(template)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]

    assert resources_of(template, "AWS::Events::EventBus") == {}
    assert resources_of(template, "AWS::Events::Archive") == {}
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables[Env.EVENT_BUS] == EXISTING_BUS
    assert variables[Env.EVENT_SOURCE] == "acme.callfire"
    puts = {grant for grant in granted(template, role_id) if grant[0] == "events:PutEvents"}
    assert puts == {("events:PutEvents", json.dumps(EXISTING_BUS), json.dumps(None))}
    assert template["Outputs"][Output.EVENT_BUS_NAME]["Value"] == "shared-events"


def test_the_archive_keeps_events_as_long_as_configured() -> None:
    template = synthesize({"eventArchiveDays": "7"})

    (archive,) = resources_of(template, "AWS::Events::Archive").values()
    assert archive["Properties"]["RetentionDays"] == 7


class _Node:
    def __init__(self, context: dict[str, Any]) -> None:
        self._context = context

    def try_get_context(self, name: str) -> Any:
        return self._context.get(name)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"eventBusArn": "shared-events"}, "eventBusArn"),
        ({"eventBusArn": "arn:aws:sqs:us-east-1:111122223333:queue"}, "eventBusArn"),
        ({"eventArchiveDays": "-1"}, "eventArchiveDays"),
        ({"eventArchiveDays": "4000"}, "eventArchiveDays"),
        ({"eventArchiveDays": "thirty"}, "eventArchiveDays"),
        ({"eventSource": "aws.callfire"}, "eventSource"),
        ({"eventSource": "callfire receiver"}, "eventSource"),
    ],
)
def test_events_configuration_is_checked(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ReceiverConfig.from_context(_Node(context))  # type: ignore[arg-type]


def test_events_configuration_defaults() -> None:
    config = ReceiverConfig.from_context(_Node({}))  # type: ignore[arg-type]

    assert (config.event_bus_arn, config.event_archive_days, config.event_source) == (
        None,
        30,
        "callfire.receiver",
    )
