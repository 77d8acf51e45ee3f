"""`make deploy ARGS="-c callfireApiKeySecretName=..."`'s synth, for real: the pinned CDK CLI with
the registration configured bundles one code asset for both Python functions, stages the Provider
framework's own code, and cdk-nag passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from functions.names import SubscriptionResource
from infra.stack import STACK_NAME
from local.template import synthesize

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
CONTEXT = {"callfireApiKeySecretName": "callfire/api-key", "subscribeCampaignIds": "12,34"}
REGISTRATION_HANDLER = "functions.registration.handler.lambda_handler"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CDK.exists():
        pytest.fail("the pinned CDK CLI is missing: run `npm ci` (make test does)")
    outdir = tmp_path_factory.mktemp("cdk.out")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    context = [
        argument for name, value in CONTEXT.items() for argument in ("-c", f"{name}={value}")
    ]
    app = f"{sys.executable} app.py"
    subprocess.run(
        [str(CDK), "synth", "--quiet", "--output", str(outdir), *context, "--app", app],
        cwd=ROOT,
        env={**environment, "CDK_DISABLE_VERSION_CHECK": "1", "CI": "true"},
        check=True,
        timeout=600,
    )
    return outdir


@pytest.fixture(scope="module")
def cli_template(cloud_assembly: Path) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(
        (cloud_assembly / f"{STACK_NAME}.template.json").read_text()
    )
    return template


def functions_by_handler(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["Handler"]: resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def asset_dir(cloud_assembly: Path, function: dict[str, Any]) -> Path:
    return cloud_assembly / f"asset.{function['Code']['S3Key'].removesuffix('.zip')}"


def test_cli_synth_matches_the_in_process_template(cli_template: dict[str, Any]) -> None:
    def types(resources: dict[str, Any]) -> dict[str, str]:
        return {
            logical_id: resource["Type"]
            for logical_id, resource in resources.items()
            if resource["Type"] != "AWS::CDK::Metadata"
        }

    in_process = synthesize(CONTEXT)

    assert types(cli_template["Resources"]) == types(in_process["Resources"])
    assert SubscriptionResource.RESOURCE_TYPE in types(cli_template["Resources"]).values()


def test_both_python_functions_share_one_bundled_asset(
    cloud_assembly: Path, cli_template: dict[str, Any]
) -> None:
    functions = functions_by_handler(cli_template)
    registration = functions[REGISTRATION_HANDLER]
    postback = functions["functions.postback.handler.lambda_handler"]

    assert registration["Code"] == postback["Code"]
    asset = asset_dir(cloud_assembly, registration)
    assert (asset / "functions" / "registration" / "handler.py").is_file()
    assert (asset / "defusedxml" / "ElementTree.py").is_file()
    assert (asset_dir(cloud_assembly, functions["framework.onEvent"]) / "framework.js").is_file()


def test_bundled_registration_handler_imports_from_the_asset_alone(
    cloud_assembly: Path, cli_template: dict[str, Any], tmp_path: Path
) -> None:
    asset = asset_dir(cloud_assembly, functions_by_handler(cli_template)[REGISTRATION_HANDLER])
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in asset.rglob("*"):
            bundle.write(path, path.relative_to(asset))
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import functions.registration.handler as h, defusedxml;"
        "assert h.__file__.startswith(sys.argv[1]) and defusedxml.__file__.startswith(sys.argv[1])"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(archive)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )
    assert result.returncode == 0, result.stderr
