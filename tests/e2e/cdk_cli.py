"""Running the pinned CDK CLI as `make synth` does, and reading what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from infra.stack import STACK_NAME

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"


def cli_synth(outdir: Path, context: Mapping[str, str] | None = None) -> Path:
    """`cdk synth` with the real local bundling, no AWS credentials in reach."""
    if not CDK.exists():
        pytest.fail("the pinned CDK CLI is missing: run `npm ci` (make test does)")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    arguments = [
        item for name, value in (context or {}).items() for item in ("-c", f"{name}={value}")
    ]
    subprocess.run(
        [
            str(CDK),
            "synth",
            "--quiet",
            "--output",
            str(outdir),
            *arguments,
            "--app",
            f"{sys.executable} app.py",
        ],
        cwd=ROOT,
        env={**environment, "CDK_DISABLE_VERSION_CHECK": "1", "CI": "true"},
        check=True,
        timeout=600,
    )
    return outdir


def stack_template(cloud_assembly: Path) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(
        (cloud_assembly / f"{STACK_NAME}.template.json").read_text()
    )
    return template


def resource_types(template: dict[str, Any]) -> dict[str, str]:
    """Resource types by logical id, less the CLI's own version-reporting resource."""
    return {
        logical_id: resource["Type"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] != "AWS::CDK::Metadata"
    }


def functions_by_handler(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["Handler"]: resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def asset_dir(cloud_assembly: Path, function: dict[str, Any]) -> Path:
    return cloud_assembly / f"asset.{function['Code']['S3Key'].removesuffix('.zip')}"


def unpacked(asset: Path, workdir: Path) -> Path:
    """The asset as Lambda runs it: zipped, then unpacked into its task directory."""
    archive = workdir / "code.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in asset.rglob("*"):
            bundle.write(path, path.relative_to(asset))
    task = workdir / "task"
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(task)
    return task


def run_on_the_asset_alone(
    task: Path, code: str, *arguments: str
) -> subprocess.CompletedProcess[str]:
    """`code` in a clean interpreter whose only packages are the unpacked asset: isolated (`-I`),
    without site-packages (`-S`), so nothing but the standard library and the asset can be
    imported, as in Lambda (where the asset comes first on the path)."""
    return subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            f"import sys; sys.path.insert(0, sys.argv[1]); {code}",
            str(task),
            *arguments,
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )


def assert_imports_from_the_asset_alone(asset: Path, modules: Iterable[str], workdir: Path) -> None:
    """What Lambda does at a cold start: import with the zipped asset first on the path; every
    module, boto3 and botocore included, comes from it."""
    checks = "".join(
        f"import {module} as m; assert m.__file__.startswith(sys.argv[1]), m.__file__;"
        for module in modules
    )
    result = run_on_the_asset_alone(unpacked(asset, workdir), checks)
    assert result.returncode == 0, result.stderr
