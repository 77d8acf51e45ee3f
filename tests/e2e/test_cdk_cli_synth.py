"""`make synth`'s path, for real: the pinned CDK CLI runs app.py, bundles the Lambda code on this
machine (no Docker, no AWS account) and cdk-nag passes."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from functions.names import Handler
from infra.bundling import AWS_SERVICES
from tests.e2e.aws_calls import called_operations, every_call
from tests.e2e.cdk_cli import (
    ROOT,
    assert_imports_from_the_asset_alone,
    asset_dir,
    cli_synth,
    functions_by_handler,
    resource_types,
    run_on_the_asset_alone,
    stack_template,
    unpacked,
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

    for handler in (
        Handler.POSTBACK,
        Handler.RECORDINGS,
        Handler.REGISTRATION,
        Handler.EVENTS,
        Handler.WEBHOOKS,
        Handler.WEBHOOK_REGISTRATION,
        Handler.WEBHOOK_HEALTH,
    ):
        module = handler.rpartition(".")[0]
        assert (asset / f"{module.replace('.', '/')}.py").is_file()
    assert (asset / "defusedxml" / "ElementTree.py").is_file()
    assert (asset / "aws_lambda_powertools").is_dir()
    assert not list(asset.rglob("__pycache__"))
    assert not (asset / "functions" / "requirements.txt").exists()
    models = asset / "botocore" / "data"
    assert sorted(entry.name for entry in models.iterdir() if entry.is_dir()) == sorted(
        AWS_SERVICES
    )
    assert (models / "endpoints.json").is_file()
    pins = (ROOT / "functions" / "requirements.txt").read_text()
    for dist_info in asset.glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        if name.lower().replace("_", "-") in pins:
            assert f"=={version}" in pins


def test_bundled_handlers_import_from_the_asset_alone(cloud_assembly: Path, tmp_path: Path) -> None:
    assert_imports_from_the_asset_alone(
        code_asset(cloud_assembly),
        [
            Handler.POSTBACK.rpartition(".")[0],
            Handler.RECORDINGS.rpartition(".")[0],
            Handler.REGISTRATION.rpartition(".")[0],
            Handler.EVENTS.rpartition(".")[0],
            Handler.WEBHOOKS.rpartition(".")[0],
            Handler.WEBHOOK_REGISTRATION.rpartition(".")[0],
            Handler.WEBHOOK_HEALTH.rpartition(".")[0],
            "defusedxml",
            "aws_lambda_powertools",
            "boto3",
            "botocore",
        ],
        tmp_path,
    )


VALIDATE = """
import json, pickle
import botocore, botocore.session
from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidator
assert botocore.__file__.startswith(sys.argv[1]), botocore.__file__
session = botocore.session.get_session()
clients = {}
results = []
for service, method, parameters in pickle.load(open(sys.argv[2], "rb")):
    if service not in clients:
        clients[service] = session.create_client(
            service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
    model = clients[service].meta.service_model
    operation = model.operation_model(clients[service].meta.method_to_api_mapping[method])
    report = ParamValidator().validate(parameters, operation.input_shape)
    errors = report.generate_report() if report.has_errors() else ""
    results.append([service, operation.name, errors])
print(json.dumps({"version": botocore.__version__, "results": results}))
"""


def test_every_aws_call_the_functions_make_passes_the_bundled_botocores_validation(
    cloud_assembly: Path, tmp_path: Path
) -> None:
    """The parameters each adapter builds, checked by the botocore in the asset, against the
    service models it ships: an older or newer botocore that lacks a parameter (S3 IfNoneMatch
    needs 1.35.2) fails here, not in the dead-letter queue."""
    calls = every_call()
    assert {operation for _, operation, _ in calls} == {op for _, op in called_operations()}
    kept = tmp_path / "calls.pickle"
    kept.write_bytes(pickle.dumps(calls))

    result = run_on_the_asset_alone(
        unpacked(code_asset(cloud_assembly), tmp_path), VALIDATE, str(kept)
    )

    assert result.returncode == 0, result.stderr
    checked = json.loads(result.stdout)
    assert (
        f"botocore=={checked['version']}" in (ROOT / "functions" / "requirements.txt").read_text()
    )
    assert tuple(int(part) for part in checked["version"].split(".")) >= (1, 35, 2)
    failures = [row for row in checked["results"] if row[2]]
    assert failures == []
    assert {(service, name) for service, name, _ in checked["results"]} >= {
        ("s3", "CompleteMultipartUpload"),
        ("s3", "PutObject"),
        ("dynamodb", "PutItem"),
        ("sqs", "SendMessageBatch"),
        ("secretsmanager", "GetSecretValue"),
        ("events", "PutEvents"),
        ("dynamodb", "GetItem"),
        ("dynamodb", "UpdateItem"),
        ("sns", "Publish"),
    }
