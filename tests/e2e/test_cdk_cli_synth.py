"""`make synth`'s path, for real: the pinned CDK CLI runs app.py, bundles the Lambda code on this
machine (no Docker, no AWS account) and cdk-nag passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra.stack import STACK_NAME

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CDK.exists():
        pytest.fail("the pinned CDK CLI is missing: run `npm ci` (make test does)")
    outdir = tmp_path_factory.mktemp("cdk.out")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    subprocess.run(
        [
            str(CDK),
            "synth",
            "--quiet",
            "--output",
            str(outdir),
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


def code_asset(cloud_assembly: Path, template: dict[str, Any]) -> Path:
    """The one code asset every function of ours runs from."""
    (asset_key,) = {
        resource["Properties"]["Code"]["S3Key"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"]["Handler"].startswith("functions.")
    }
    return cloud_assembly / f"asset.{asset_key.removesuffix('.zip')}"


def test_cli_synth_matches_the_in_process_template(
    cloud_assembly: Path, template: dict[str, Any]
) -> None:
    def types(resources: dict[str, Any]) -> dict[str, str]:
        """Resource types by logical id, less the CLI's own version-reporting resource."""
        return {
            logical_id: resource["Type"]
            for logical_id, resource in resources.items()
            if resource["Type"] != "AWS::CDK::Metadata"
        }

    assert types(stack_template(cloud_assembly)["Resources"]) == types(template["Resources"])


def test_bundled_asset_holds_the_code_and_its_pinned_dependencies(cloud_assembly: Path) -> None:
    asset = code_asset(cloud_assembly, stack_template(cloud_assembly))

    assert (asset / "functions" / "postback" / "handler.py").is_file()
    assert (asset / "functions" / "recordings" / "handler.py").is_file()
    assert (asset / "defusedxml" / "ElementTree.py").is_file()
    assert (asset / "aws_lambda_powertools").is_dir()
    assert not list(asset.rglob("__pycache__"))
    assert not (asset / "functions" / "requirements.txt").exists()
    pins = (ROOT / "functions" / "requirements.txt").read_text()
    for dist_info in asset.glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        if name.lower().replace("_", "-") in pins:
            assert f"=={version}" in pins


def test_bundled_handler_imports_from_the_asset_alone(cloud_assembly: Path, tmp_path: Path) -> None:
    """What Lambda does at a cold start: import the handler with the asset on the path (boto3
    comes from the runtime, here from this interpreter's site-packages)."""
    asset = code_asset(cloud_assembly, stack_template(cloud_assembly))
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in asset.rglob("*"):
            bundle.write(path, path.relative_to(asset))
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import functions.postback.handler as h, defusedxml, aws_lambda_powertools as p;"
        "import functions.recordings.handler as r;"
        "assert h.__file__.startswith(sys.argv[1]) and defusedxml.__file__.startswith(sys.argv[1]);"
        "assert r.__file__.startswith(sys.argv[1]);"
        "assert p.__file__.startswith(sys.argv[1])"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(archive)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )
    assert result.returncode == 0, result.stderr
