"""Which Node.js runs the CDK: the one package.json pins, once `npm ci` installed it."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

PROJECT_NODE = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "node"


def prefer_project_node(
    environ: MutableMapping[str, str] = os.environ, node: Path = PROJECT_NODE
) -> None:
    """Set JSII_NODE to the project's Node.js when it is installed and nothing else was chosen."""
    if "JSII_NODE" not in environ and node.exists():
        environ["JSII_NODE"] = str(node)
