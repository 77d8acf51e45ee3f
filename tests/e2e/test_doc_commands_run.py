"""Every local command the README and docs/ print, and every command of the `make local` banner,
runs as printed through a shell against one running local system (on free ports) and exits 0.

The commands run in a copy of the project's files (the virtualenv and node_modules linked), so
that `.local/endpoints.json`, which the tools read by default, is the test's own and never a
running `make local`'s."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local.__main__ import instructions
from local.demo import QUIET
from local.system import LocalSystem, Ports
from tests import doc_commands
from tests.unit.test_doc_commands import LINES, classified

pytestmark = pytest.mark.e2e
ROOT = doc_commands.ROOT
COPIED = ["functions", "infra", "local", "tools", "tests/events", "docs/events"]
COPIED_FILES = ["Makefile", "app.py", "cdk.json", "pyproject.toml", "requirements.txt",
                "requirements-dev.txt", "package.json", "package-lock.json"]  # fmt: skip
LINKED = [".venv", "node_modules"]
BASH = shutil.which("bash") or "/bin/bash"
TODAY = datetime.now(UTC).date()
DATES = {"2026-11-01": TODAY - timedelta(days=7), "2026-11-07": TODAY}
"""The dates the docs print, replaced by the last week's so a run covers recent days."""


@dataclass
class Project:
    folder: Path
    system: LocalSystem


def project_copy(folder: Path) -> Path:
    for name in COPIED:
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in COPIED_FILES:
        shutil.copy2(ROOT / name, folder / name)  # their times: make installs nothing again
    for name in LINKED:
        (folder / name).symlink_to(ROOT / name)
    return folder


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = project_copy(tmp_path_factory.mktemp("docs-project"))
    endpoints = folder / ".local" / "endpoints.json"
    with LocalSystem(
        Ports.free(), endpoints_file=endpoints, stack_name="e2e-docs", extra_environment=QUIET
    ) as system:
        yield Project(folder, system)


def shell(project: Project, command: str) -> subprocess.CompletedProcess[str]:
    for printed, value in DATES.items():
        command = command.replace(printed, value.isoformat())
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    return subprocess.run(
        [BASH, "-o", "pipefail", "-c", command],
        cwd=project.folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def local_lines() -> list[doc_commands.Line]:
    """The documented lines all of whose commands are local or plumbing, with one local."""
    chosen = []
    for line in LINES:
        kinds = {c.kind for c in classified(line)}
        if "local" in kinds and kinds <= {"local", "shell"}:
            chosen.append(line)
    return chosen


def banner_paragraphs(banner: str) -> list[str]:
    """The banner's commands: each run of indented lines that starts with a command, as one
    script (a later line may use an earlier one's variable)."""
    scripts, current = [], []
    for text in banner.splitlines():
        if text.startswith("  ") and (
            current or doc_commands.COMMAND_START.match(text.strip()) or "=" in text.split()[0]
        ):
            current.append(text.strip())
        elif current:
            scripts.append("\n".join(current))
            current = []
    return scripts


def test_every_local_documented_command_runs_as_printed(project: Project) -> None:
    lines = local_lines()
    failed = []
    for line in lines:
        result = shell(project, line.text)
        if result.returncode != 0:
            failed.append(f"{line.page}: {line.text}\n{result.stdout}{result.stderr}")

    assert len(lines) >= 15
    assert failed == []


def test_the_make_local_banner_s_commands_run_as_printed(project: Project) -> None:
    banner = instructions(project.system.endpoints, project.folder / ".local" / "endpoints.json")
    scripts = [script for script in banner_paragraphs(banner) if not script.startswith("aws ")]
    failed = []
    for script in scripts:
        result = shell(project, script)
        if result.returncode != 0:
            failed.append(f"{script}\n{result.stdout}{result.stderr}")

    assert any("curl" in script for script in scripts)
    assert any("make status" in script for script in scripts)
    assert failed == []


def test_a_wrong_flag_fails_the_run(project: Project) -> None:
    """The check can fail: a flag the tool lacks exits non-zero through the same shell."""
    assert shell(project, 'make query ARGS="calls --campaing 22222"').returncode != 0
