"""`make deploy ARGS="-c callfireApiKeySecretName=..."`'s synth, for real: the pinned CDK CLI with
the registration configured bundles one code asset for both Python functions, stages the Provider
framework's own code, and cdk-nag passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from functions.names import Handler, SubscriptionResource
from local.template import synthesize
from tests.e2e.cdk_cli import (
    assert_imports_from_the_asset_alone,
    asset_dir,
    cli_synth,
    functions_by_handler,
    resource_types,
    stack_template,
)

CONTEXT = {"callfireApiKeySecretName": "callfire/api-key", "subscribeCampaignIds": "12,34"}

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cli_synth(tmp_path_factory.mktemp("cdk.out"), CONTEXT)


@pytest.fixture(scope="module")
def cli_template(cloud_assembly: Path) -> dict[str, Any]:
    return stack_template(cloud_assembly)


def test_cli_synth_matches_the_in_process_template(cli_template: dict[str, Any]) -> None:
    assert resource_types(cli_template) == resource_types(synthesize(CONTEXT))
    assert SubscriptionResource.RESOURCE_TYPE in resource_types(cli_template).values()


def test_both_python_functions_share_one_bundled_asset(
    cloud_assembly: Path, cli_template: dict[str, Any]
) -> None:
    functions = functions_by_handler(cli_template)
    registration = functions[Handler.REGISTRATION]
    postback = functions[Handler.POSTBACK]

    assert registration["Code"] == postback["Code"]
    asset = asset_dir(cloud_assembly, registration)
    assert (asset / "functions" / "handlers" / "registration.py").is_file()
    assert (asset / "defusedxml" / "ElementTree.py").is_file()
    assert (asset_dir(cloud_assembly, functions["framework.onEvent"]) / "framework.js").is_file()


def test_bundled_registration_handler_imports_from_the_asset_alone(
    cloud_assembly: Path, cli_template: dict[str, Any], tmp_path: Path
) -> None:
    asset = asset_dir(cloud_assembly, functions_by_handler(cli_template)[Handler.REGISTRATION])
    assert_imports_from_the_asset_alone(
        asset, [Handler.REGISTRATION.rpartition(".")[0], "defusedxml"], tmp_path
    )
