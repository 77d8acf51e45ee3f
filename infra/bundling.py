"""The Lambda code asset, bundled on this machine (no Docker): the `functions` package plus the
pinned runtime dependencies of `functions/requirements.txt` (boto3 and botocore included), for
Python 3.13 on arm64."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
RUNTIME_REQUIREMENTS = FUNCTIONS_DIR / "requirements.txt"
LAMBDA_PYTHON_VERSION = "3.13"
LAMBDA_PLATFORM = "manylinux2014_aarch64"
_NOT_SHIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt")
AWS_SERVICES = ("dynamodb", "events", "s3", "secretsmanager", "sns", "sqs")
"""The AWS services the functions call. The bundled botocore keeps only their models: the other
four hundred-odd services are about 25 MB that no function ever loads."""


@jsii.implements(cdk.ILocalBundling)
class LocalPythonBundling:
    def try_bundle(
        self,
        output_dir: str,
        *,
        image: cdk.DockerImage | None = None,  # noqa: ARG002 - part of jsii's interface
        **_: object,
    ) -> bool:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--no-compile", "--target", output_dir,
                "--requirement", str(RUNTIME_REQUIREMENTS),
                "--platform", LAMBDA_PLATFORM, "--implementation", "cp",
                "--python-version", LAMBDA_PYTHON_VERSION, "--only-binary=:all:",
            ],
            check=True,
        )  # fmt: skip
        _keep_only_used_service_models(Path(output_dir) / "botocore" / "data")
        shutil.copytree(FUNCTIONS_DIR, Path(output_dir) / FUNCTIONS_DIR.name, ignore=_NOT_SHIPPED)
        return True


def _keep_only_used_service_models(models: Path) -> None:
    for entry in models.iterdir():
        if entry.is_dir() and entry.name not in AWS_SERVICES:
            shutil.rmtree(entry)


def functions_code() -> lambda_.Code:
    """One asset for every function; each names its own handler inside `functions`."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=["**/__pycache__", "**/*.pyc"],
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry("local"),
            local=LocalPythonBundling(),
        ),
    )
