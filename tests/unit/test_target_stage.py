"""The tools follow the stage: `--stage` picks the stage's stack on AWS, and refuses a local
system that runs another stage."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from functions.names import LocalEndpoint
from tools import target as target_module
from tools.target import TargetError, add_target_arguments, chosen_target


def options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_target_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def stacks_asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []

    def aws_target(stack_name: str, region: str | None = None, stage: str | None = None) -> Any:
        asked.append(stack_name)
        return stack_name

    monkeypatch.setattr(target_module, "aws_target", aws_target)
    return asked


@pytest.mark.parametrize(
    ("argv", "stack"),
    [
        ((), "CallfireReceiver"),
        (("--stage", "prod"), "CallfireReceiver"),
        (("--stage", "staging"), "CallfireReceiver-staging"),
        (("--stage", "staging", "--stack", "Mine"), "Mine"),
    ],
)
def test_aws_reads_the_stage_s_stack(
    argv: tuple[str, ...], stack: str, stacks_asked: list[str], tmp_path: Path
) -> None:
    chosen_target(options("--aws", "--endpoints", str(tmp_path / "none.json"), *argv))

    assert stacks_asked == [stack]


def endpoints_file(tmp_path: Path, stage: str | None) -> Path:
    endpoints = {
        LocalEndpoint.ENDPOINT_URL: "http://127.0.0.1:1",
        LocalEndpoint.REGION: "us-east-1",
        LocalEndpoint.CALLS_TABLE: "calls",
        LocalEndpoint.CAMPAIGNS_TABLE: "campaigns",
    }
    if stage is not None:
        endpoints[LocalEndpoint.STAGE] = stage
    path = tmp_path / "endpoints.json"
    path.write_text(json.dumps(endpoints))
    return path


def test_a_local_system_of_another_stage_is_refused(tmp_path: Path) -> None:
    path = endpoints_file(tmp_path, "staging")

    assert "stage staging" in chosen_target(options("--endpoints", str(path))).description
    assert chosen_target(options("--endpoints", str(path), "--stage", "staging"))
    with pytest.raises(TargetError, match="runs stage 'staging', not 'prod'"):
        chosen_target(options("--endpoints", str(path), "--stage", "prod"))


def test_an_endpoints_file_without_a_stage_is_the_default_stage(tmp_path: Path) -> None:
    path = endpoints_file(tmp_path, None)

    assert chosen_target(options("--local", "--endpoints", str(path), "--stage", "prod"))
