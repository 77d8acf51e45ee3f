"""Synthesize the stack in-process (cdk.json's context, no bundling) and hand back its template."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = ROOT / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def synthesize(
    context: dict[str, Any] | None = None, *, security_checks: bool = True
) -> dict[str, Any]:
    """The stack's CloudFormation template. With `security_checks`, cdk-nag runs as in `cdk synth`
    and any unacknowledged finding raises."""
    from infra.toolchain import prefer_project_node

    prefer_project_node()
    import aws_cdk as cdk

    from functions.names import stack_name
    from infra.config import ReceiverConfig
    from infra.security import add_security_checks
    from infra.stack import ReceiverStack

    with tempfile.TemporaryDirectory(prefix="cdk-synth-") as outdir:
        app = cdk.App(
            outdir=outdir,
            context={**cdk_json_context(), "aws:cdk:bundling-stacks": [], **(context or {})},
        )
        config = ReceiverConfig.from_context(app.node)
        stack = ReceiverStack(app, stack_name(config.stage), config=config)
        if security_checks:
            add_security_checks(app)
        assembly = app.synth()
        template: dict[str, Any] = assembly.get_stack_by_name(stack.stack_name).template
    return template
