"""The code keeps its own promises about where things are defined: every shared name once in
`functions/names.py`, no import cycle between the packages of `functions/`, and every
user-facing name written into `docs/contract.md`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from functions import names

ROOT = Path(__file__).resolve().parents[2]
NAMES_FILE = ROOT / "functions" / "names.py"
CODE = ("app.py", "functions", "infra", "local", "tools", "bench", "tests")
CONTRACT = ROOT / "docs" / "contract.md"


def constants(holder: type) -> set[str]:
    return {
        value
        for name, value in vars(holder).items()
        if not name.startswith("_") and isinstance(value, str)
    }


GUARDED = {
    **dict.fromkeys(constants(names.Metric), "a metric name"),
    **dict.fromkeys(constants(names.Output), "a stack output name"),
    **dict.fromkeys(constants(names.Handler), "a handler path"),
}
"""Names that may be written as a literal in functions/names.py only: everything else imports
them, so that renaming one cannot leave a copy behind."""


def python_files() -> Iterator[Path]:
    for entry in CODE:
        path = ROOT / entry
        if path.is_file():
            yield path
        else:
            yield from (
                found
                for found in sorted(path.rglob("*.py"))
                if "__pycache__" not in found.parts and found != NAMES_FILE
            )


ACKNOWLEDGED = "# not a names.py name:"
"""A line that writes one of these strings with another meaning (an AWS property that happens to
share the name) says so, and why, after this marker."""


def string_literals(path: Path) -> Iterator[tuple[int, str]]:
    source = path.read_text()
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and ACKNOWLEDGED not in lines[node.lineno - 1]
        ):
            yield node.lineno, node.value


def test_metric_output_and_handler_names_are_written_only_in_names() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {value!r} is {GUARDED[value]}; import it from names"
        for path in python_files()
        for line, value in string_literals(path)
        if value in GUARDED
    ]

    assert found == []


def test_the_literal_check_sees_a_name_written_elsewhere(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        f'ALARM = "{names.Metric.REPORTS_STORED}"\n'
        f'OTHER = "{names.Output.BUCKET}"  {ACKNOWLEDGED} a CloudFormation property\n'
    )

    assert [value for _, value in string_literals(planted) if value in GUARDED] == [
        names.Metric.REPORTS_STORED
    ]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every `functions` module `path` imports, wherever the import statement stands."""
    imported: set[str] = set()
    package = module_name(path).rpartition(".")[0] if path.name != "__init__.py" else None
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (package or module_name(path)).split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            imported.add(base)
            imported.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in imported if name == "functions" or name.startswith("functions.")}


def function_modules() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in (ROOT / "functions").rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules} for name, path in modules.items()}


def package_of(module: str) -> str:
    """`functions.adapters.dynamodb` is in `adapters`; a module directly under `functions/` is
    its own node (`names`, `failures`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_graph(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, imported in modules.items():
        node = package_of(module)
        graph.setdefault(node, set()).update(
            package_of(other) for other in imported if package_of(other) != node
        )
    return graph


def test_the_packages_of_functions_import_each_other_without_a_cycle() -> None:
    graph = package_graph(function_modules())

    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        pytest.fail(f"import cycle between packages of functions/: {' -> '.join(cycle.args[1])}")
    assert {"adapters", "handlers", "wiring", "postback", "recordings", "reports"} <= set(order)


def test_the_cycle_check_sees_a_cycle() -> None:
    modules = {
        "functions.postback.ports": {"functions.recordings.jobs"},
        "functions.recordings.jobs": {"functions.adapters.api_key"},
        "functions.adapters.api_key": {"functions.postback.ports"},
    }

    with pytest.raises(CycleError):
        list(TopologicalSorter(package_graph(modules)).static_order())


def reachable(start: str, modules: dict[str, set[str]]) -> set[str]:
    seen, waiting = set(), [start]
    while waiting:
        module = waiting.pop()
        if module not in seen:
            seen.add(module)
            waiting.extend(modules.get(module, ()))
    return seen


@pytest.mark.parametrize(
    ("handler", "foreign"),
    [
        (names.Handler.RECORDINGS, ("postback", "registration", "webhook_registration")),
        (names.Handler.REGISTRATION, ("postback", "recordings", "webhook_registration")),
        (names.Handler.WEBHOOKS, ("registration", "webhook_registration")),
        (names.Handler.WEBHOOK_REGISTRATION, ("postback", "recordings", "registration")),
        (
            names.Handler.UNSTORED_WATCH,
            ("postback", "recordings", "registration", "webhook_registration"),
        ),
    ],
)
def test_a_function_s_handler_imports_nothing_of_another_function(
    handler: str, foreign: tuple[str, ...]
) -> None:
    modules = function_modules()
    handler_module = handler.rpartition(".")[0]

    loaded = reachable(handler_module, modules)

    assert handler_module in modules
    borrowed = sorted(
        module
        for module in loaded
        for other in foreign
        if module.startswith(
            (f"functions.{other}.", f"functions.wiring.{other}", f"functions.handlers.{other}")
        )
        or module == f"functions.{other}"
    )
    assert borrowed == []


USER_FACING = (
    names.Output,
    names.Metric,
    names.CallAttribute,
    names.CampaignAttribute,
    names.Item,
    names.Source,
    names.WebhookAttribute,
    names.RecordingEntry,
    names.RecordingStatus,
    names.RecordingState,
    names.Prefix,
    names.ArchiveTag,
    names.Context,
    names.CallfireApiChoice,
    names.LocalEndpoint,
    names.LogKey,
    names.StatusObject,
    names.RegistrationRecord,
)


def quoted_in_contract() -> str:
    """Everything the contract writes as code (between backticks), one span per line."""
    return "\n".join(re.findall(r"`([^`\n]+)`", CONTRACT.read_text()))


@pytest.mark.parametrize("holder", USER_FACING, ids=lambda holder: holder.__name__)
def test_every_user_facing_name_is_in_the_contract(holder: type) -> None:
    quoted = quoted_in_contract()
    missing = sorted(
        value
        for value in constants(holder)
        if not re.search(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", quoted)
    )

    assert missing == [], f"docs/contract.md does not name these {holder.__name__} values"


def test_the_index_names_and_routes_are_in_the_contract() -> None:
    quoted = quoted_in_contract()

    for value in (*names.CallsTable.INDEXES, names.Route.POSTBACKS):
        assert value in quoted
