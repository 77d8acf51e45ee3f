"""The real unstored watch handler on moto: it lists `unstored/`, reads the replay tags oldest
first, and publishes the age of the oldest body still waiting as an EMF metric."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.names import (
    METRIC_DIMENSION_SETS,
    METRICS_NAMESPACE,
    ArchiveTag,
    Env,
    Handler,
    Metric,
)
from local.invoke import lambda_context, load_handler, reset_function_state
from local.resources import LocalResources
from tests.helpers import REGION, new_id


@pytest.fixture
def bucket(
    resources: LocalResources, aws: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A bucket of the watch's own: the session's bucket holds other tests' unstored bodies."""
    function = resources.function_for_handler(Handler.UNSTORED_WATCH)
    name = f"watch-{new_id()}"
    aws("s3").create_bucket(Bucket=name)
    for variable, value in function.environment.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv(Env.BUCKET, name)
    reset_function_state(keep_clients=True)
    yield name
    reset_function_state(keep_clients=True)


def run(
    resources: LocalResources, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The handler's answer and the metric records it printed (EMF, as CloudWatch reads them)."""
    function = resources.function_for_handler(Handler.UNSTORED_WATCH)
    capsys.readouterr()
    answer = load_handler(function.handler)({}, lambda_context(function, REGION))
    records = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
    ]
    return answer, records


def test_the_oldest_body_not_replayed_is_reported(
    bucket: str,
    resources: LocalResources,
    aws: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="unstored/2026/11/01/replayed.xml", Body=b"<a/>")
    s3.put_object_tagging(
        Bucket=bucket,
        Key="unstored/2026/11/01/replayed.xml",
        Tagging={"TagSet": [{"Key": ArchiveTag.REPLAYED, "Value": "new"}]},
    )
    s3.put_object(Bucket=bucket, Key="unstored/2026/11/02/waiting.xml", Body=b"<b/>")
    s3.put_object(Bucket=bucket, Key="rejected/2026/11/01/refused.xml", Body=b"<c/>")

    answer, (emf,) = run(resources, capsys)

    assert answer["oldestKey"] == "unstored/2026/11/02/waiting.xml"
    assert answer["checked"] == 2
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == METRICS_NAMESPACE
    assert directive["Metrics"] == [{"Name": Metric.OLDEST_UNSTORED_BODY_AGE, "Unit": "Seconds"}]
    assert [tuple(dimensions) for dimensions in directive["Dimensions"]] == list(
        METRIC_DIMENSION_SETS[Metric.OLDEST_UNSTORED_BODY_AGE]
    )
    assert emf[Metric.OLDEST_UNSTORED_BODY_AGE] == [float(answer["oldestAgeSeconds"])]


def test_with_every_body_replayed_nothing_is_published(
    bucket: str,
    resources: LocalResources,
    aws: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws("s3").put_object(Bucket=bucket, Key="unstored/2026/11/01/r.xml", Body=b"<a/>")
    aws("s3").put_object_tagging(
        Bucket=bucket,
        Key="unstored/2026/11/01/r.xml",
        Tagging={"TagSet": [{"Key": ArchiveTag.REPLAYED, "Value": "duplicate"}]},
    )

    answer, records = run(resources, capsys)

    assert (answer["oldestAgeSeconds"], answer["oldestKey"]) == (0, None)
    assert records == [], "no data point: the metric is billed per hour with data"
