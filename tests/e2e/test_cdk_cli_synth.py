"""`make synth`'s path, for real: the pinned CDK CLI runs app.py, bundles the Lambda code on this
machine (no Docker, no AWS account) and cdk-nag passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from functions.names import Handler
from tests.e2e.cdk_cli import (
    ROOT,
    assert_imports_from_the_asset_alone,
    asset_dir,
    cli_synth,
    functions_by_handler,
    resource_types,
    stack_template,
)

pytestmark = pytest.mark.e2e
POSTBACK_HANDLER = Handler.POSTBACK


@pytest.fixture(scope="module")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cli_synth(tmp_path_factory.mktemp("cdk.out"))


def code_asset(cloud_assembly: Path) -> Path:
    return asset_dir(
        cloud_assembly, functions_by_handler(stack_template(cloud_assembly))[POSTBACK_HANDLER]
    )


def test_cli_synth_matches_the_in_process_template(
    cloud_assembly: Path, template: dict[str, Any]
) -> None:
    assert resource_types(stack_template(cloud_assembly)) == resource_types(template)


def test_bundled_asset_holds_the_code_and_its_pinned_dependencies(cloud_assembly: Path) -> None:
    asset = code_asset(cloud_assembly)

    for handler in (Handler.POSTBACK, Handler.RECORDINGS, Handler.REGISTRATION):
        module = handler.rpartition(".")[0]
        assert (asset / f"{module.replace('.', '/')}.py").is_file()
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
    assert_imports_from_the_asset_alone(
        code_asset(cloud_assembly),
        [
            Handler.POSTBACK.rpartition(".")[0],
            Handler.RECORDINGS.rpartition(".")[0],
            "defusedxml",
            "aws_lambda_powertools",
        ],
        tmp_path,
    )
