"""The tools' command lines as people type them, against moto built from the template: options
before or after the command, dates and periods checked, what a list read from an index can and
cannot show, and a dry run that predicts the real run."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions.adapters.archive import S3BodyArchive
from functions.adapters.aws import AwsService
from functions.names import CallAttribute, Env, Item, LocalEndpoint, Output, Prefix
from tests.helpers import REGION, event_body, later
from tests.integration.conftest import PostbackClient
from tools import query, replay
from tools.target import Target

NOW = datetime.now(UTC)


@pytest.fixture
def endpoints(postback: PostbackClient, tmp_path: Path) -> Path:
    """An endpoints file that points the tools at the in-process moto (no endpoint URL)."""
    path = tmp_path / "endpoints.json"
    path.write_text(
        json.dumps(
            {
                LocalEndpoint.ENDPOINT_URL: None,
                LocalEndpoint.REGION: REGION,
                LocalEndpoint.CALLS_TABLE: postback.outputs[Output.CALLS_TABLE],
                LocalEndpoint.CAMPAIGNS_TABLE: postback.outputs[Output.CAMPAIGNS_TABLE],
                LocalEndpoint.BUCKET: postback.outputs[Output.BUCKET],
                LocalEndpoint.RECORDINGS_QUEUE: postback.function.environment[
                    Env.RECORDINGS_QUEUE_URL
                ],
            }
        )
    )
    return path


def stored_call(postback: PostbackClient) -> tuple[bytes, str, str]:
    """A call stored under a campaign of its own: its body, call id and campaign id."""
    stamp = uuid.uuid4().hex[:12]
    call_id, campaign_id = f"c{stamp}", f"k{stamp}"
    body = (
        event_body("call_finished.xml")
        .replace(b"111111", call_id.encode())
        .replace(b"22222", campaign_id.encode())
    )
    assert postback.post(body).status == 200
    return body, call_id, campaign_id


def run(tool: Any, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()  # what the handler printed while the test stored its reports
    code = tool.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_options_work_after_the_command_as_well_as_before(
    postback: PostbackClient, endpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, call_id, _ = stored_call(postback)

    after = run(query, ["calls", "--id", call_id, "--json", "--endpoints", str(endpoints)], capsys)
    before = run(query, ["--json", "--endpoints", str(endpoints), "calls", "--id", call_id], capsys)

    assert after[0] == before[0] == 0
    assert after[1] == before[1]
    assert json.loads(after[1])[0][CallAttribute.CALL_ID] == call_id
    assert run(replay, ["recordings", "--dry-run", "--endpoints", str(endpoints)], capsys)[0] == 0


def test_raw_without_json_says_what_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        query.main(["calls", "--id", "1", "--raw"])

    assert exit_.value.code == 2
    assert "--raw shows the raw bodies in JSON: add --json" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["archived", "unstored", "--since", "2026-13-01"], "'2026-13-01' is not a date: month"),
        (["archived", "unstored", "--since", "yesterday"], "'yesterday' is not a date: expected"),
        (
            ["archived", "unstored", "--since", "2026-11-20", "--until", "2026-11-01"],
            "--until 2026-11-01 is before --since 2026-11-20",
        ),
        (["remap", "--since", "2026-02-30"], "'2026-02-30' is not a date: day is out of range"),
    ],
)
def test_dates_are_checked_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        replay.main(argv)

    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_list_read_from_an_index_leaves_out_what_the_index_lacks_and_says_so(
    postback: PostbackClient, endpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, call_id, campaign_id = stored_call(postback)
    where = ["--endpoints", str(endpoints)]

    code, table, hint = run(query, ["calls", "--campaign", campaign_id, *where], capsys)
    _, full_table, full_hint = run(
        query, ["calls", "--campaign", campaign_id, "--full", *where], capsys
    )

    assert code == 0
    header = table.splitlines()[0].split()
    assert CallAttribute.CALL_ID in header
    assert Item.DELIVERIES not in header
    assert CallAttribute.RECORDINGS not in header
    assert "deliveries, recordings: not in the index" in hint
    assert "--full" in hint
    full_header, _, row = full_table.splitlines()[:3]
    assert {Item.DELIVERIES, CallAttribute.RECORDINGS} <= set(full_header.split())
    assert call_id in row
    assert "PENDING https://www.callfire.com" in row
    assert "not in the index" not in full_hint


def test_the_region_comes_from_the_option_then_aws_region(
    monkeypatch: pytest.MonkeyPatch, aws: Any
) -> None:
    """Two stacks of one name in two regions (moto): the tool reads the one of the region asked."""
    for region, table in (("eu-west-1", "calls-in-ireland"), ("us-west-2", "calls-in-oregon")):
        boto3.client("cloudformation", region_name=region).create_stack(
            StackName="RegionTest",
            TemplateBody=json.dumps(
                {
                    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                    "Outputs": {
                        Output.CALLS_TABLE: {"Value": table},
                        Output.CAMPAIGNS_TABLE: {"Value": "campaigns"},
                    },
                }
            ),
        )
    options = query.parser().parse_args(["calls", "--id", "1", "--aws", "--stack", "RegionTest"])

    monkeypatch.setenv("AWS_REGION", "us-west-2")
    from_environment = replay.chosen_target(options)
    options.region = "eu-west-1"
    from_option = replay.chosen_target(options)

    assert from_environment.calls_table == "calls-in-oregon"
    assert from_option.calls_table == "calls-in-ireland"


@pytest.fixture
def own_bucket(aws: Any) -> str:
    """A bucket holding only this test's archived bodies, so the tallies are this test's."""
    name = f"replay-cli-{uuid.uuid4().hex[:12]}"
    aws("s3").create_bucket(Bucket=name)
    return name


def test_a_dry_run_predicts_what_the_real_run_does(
    postback: PostbackClient, own_bucket: str, aws: Any
) -> None:
    body, _, _ = stored_call(postback)
    fresh, fresh_id, _ = stored_call(postback)
    aws("dynamodb").delete_item(
        TableName=postback.outputs[Output.CALLS_TABLE],
        Key={"callId": {"S": fresh_id}, "eventType": {"S": "call"}},
    )
    conflicting = body.replace(b"TRANSFER", b"BUSY")
    archive = S3BodyArchive(AwsService.over(aws("s3")), own_bucket)
    for index, archived in enumerate((body, fresh, conflicting)):
        archive.keep(
            Prefix.REJECTED,
            archived,
            request_id=f"r{index}",
            received_at=NOW,
            content_encoding=None,
            reason="test",
            detail="archived by the test",
            deadline=later(),
        )
    target = Target(
        session=boto3.session.Session(region_name=REGION),
        endpoint_url=None,
        calls_table=postback.outputs[Output.CALLS_TABLE],
        campaigns_table=postback.outputs[Output.CAMPAIGNS_TABLE],
        bucket=own_bucket,
        recordings_queue=postback.function.environment[Env.RECORDINGS_QUEUE_URL],
        description="moto",
    )

    def quiet(label: str, total: int) -> replay.Progress:
        return replay.Progress(label, total, stream=io.StringIO())

    day = NOW.date()
    predicted = replay.replay_archived(
        target, Prefix.REJECTED, day, day, dry_run=True, progress=quiet
    )
    done = replay.replay_archived(target, Prefix.REJECTED, day, day, progress=quiet)

    assert predicted == {
        "would store": 1,
        "would count a delivery (already stored)": 1,
        "would be a conflict (stored item kept)": 1,
    }
    assert done == {
        "stored": 1,
        "already stored (delivery counted)": 1,
        "conflict (stored item kept)": 1,
    }
