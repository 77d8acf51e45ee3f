"""Every command printed in the README, docs/ and the tools' advice is checked by what it is:
commands for a deployed stack are parsed by the tool's own parser, their CDK context keys checked
against the stack's, `aws` commands against botocore's service models; the local ones run in
tests/e2e/test_doc_commands_run.py. See tests/doc_commands.py."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import shlex
from typing import Any
from unittest import mock

import botocore.session
import pytest
from botocore import xform_name

from functions.names import Context
from tests import doc_commands
from tests.doc_commands import Classified, Line

LINES = doc_commands.documented_lines()
SAMPLE = {"<id>": "1234", "<stage>": "staging"}
"""Placeholders as printed, and a value of the right shape for the parsers."""


def classified(line: Line) -> list[Classified]:
    functions = doc_commands.defined_functions(
        [other for other in LINES if other.page == line.page]
    )
    return [doc_commands.classify(words, line.text, functions) for words in line.commands]


def commands_of(kind: str) -> list[tuple[Line, Classified]]:
    return [(line, c) for line in LINES for c in classified(line) if c.kind == kind]


def filled(word: str) -> str:
    for placeholder, value in SAMPLE.items():
        word = word.replace(placeholder, value)
    return re.sub(r"<[^>]+>", "placeholder", word)


def test_every_printed_command_is_one_the_tests_know() -> None:
    kinds = {c.kind for line in LINES for c in classified(line)}

    assert len(LINES) > 50
    assert kinds == {"local", "aws", "shell", "unchecked"}


class Refused(Exception):
    pass


def tool_parser(module_name: str) -> argparse.ArgumentParser:
    """The tool's own parser: its `build_parser()` or `parser()`, else the one its `main` builds
    (local/ builds its parsers inside main)."""
    module = importlib.import_module(module_name if module_name != "local" else "local.__main__")
    for name in ("build_parser", "parser"):
        if callable(getattr(module, name, None)):
            built = getattr(module, name)()
            assert isinstance(built, argparse.ArgumentParser)
            return built
    captured: list[argparse.ArgumentParser] = []

    def capture(self: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        captured.append(self)
        raise Refused

    with (
        mock.patch.object(argparse.ArgumentParser, "parse_args", capture),
        contextlib.suppress(Refused),
    ):
        module.main([])
    (found,) = captured
    return found


def parse_with_tool(module_name: str, arguments: list[str]) -> argparse.Namespace:
    parser = tool_parser(module_name)
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            return parser.parse_args([filled(word) for word in arguments])
        except SystemExit:
            raise AssertionError(
                f"{module_name} refuses {shlex.join(arguments)}: {errors.getvalue()}"
            ) from None


def tool_arguments(words: tuple[str, ...]) -> tuple[str, list[str]]:
    if words[0] == "make":
        target, arguments = doc_commands.make_arguments(words)
        return doc_commands.MAKE_TOOLS[target], arguments
    module = doc_commands.python_module(words)
    assert module, words
    return module


TOOL_COMMANDS = [
    (line, c)
    for kind in ("aws", "local", "unchecked")
    for line, c in commands_of(kind)
    if (c.words[0] == "make" and doc_commands.make_arguments(c.words)[0] in doc_commands.MAKE_TOOLS)
    or (doc_commands.python_module(c.words) or ("",))[0]
    in {*doc_commands.MAKE_TOOLS.values(), "tools.endpoints"}
]


@pytest.mark.parametrize(
    ("line", "command"), TOOL_COMMANDS, ids=[shlex.join(c.words) for _, c in TOOL_COMMANDS]
)
def test_a_tool_command_parses_with_the_tool_s_own_parser(line: Line, command: Classified) -> None:
    module, arguments = tool_arguments(command.words)

    parse_with_tool(module, arguments)


CONTEXT_KEYS = {value for name, value in vars(Context).items() if name.isupper()}
CDK_COMMANDS = [(line, c) for line, c in commands_of("aws") if c.why == "CDK: context keys"]


def context_keys(words: tuple[str, ...]) -> list[str]:
    arguments = doc_commands.make_arguments(words)[1] if words[0] == "make" else list(words[2:])
    keys = []
    for index, flag in enumerate(arguments):
        value = arguments[index + 1] if index + 1 < len(arguments) else ""
        if flag in {"-c", "--context"}:
            assert "=" in value, f"-c takes name=value: {shlex.join(words)}"
            keys.append(value.split("=", 1)[0])
    return keys


@pytest.mark.parametrize(
    ("line", "command"), CDK_COMMANDS, ids=[shlex.join(c.words) for _, c in CDK_COMMANDS]
)
def test_a_cdk_command_names_only_the_stack_s_context_keys(line: Line, command: Classified) -> None:
    keys = context_keys(command.words)

    assert set(keys) - CONTEXT_KEYS == set()


CLI_SERVICES = {"s3api": "s3"}
"""The AWS CLI's name for a service, where botocore's differs."""
CLI_GLOBAL_OPTIONS = {
    "--region", "--endpoint-url", "--query", "--output", "--profile", "--no-cli-pager",
    "--cli-binary-format", "--no-paginate", "--max-items", "--page-size", "--starting-token",
    "--debug", "--no-verify-ssl", "--cli-input-json",
}  # fmt: skip
"""Options of every AWS CLI command (the pagination ones on paginated operations)."""


def aws_cli_problems(words: tuple[str, ...]) -> list[str]:
    session = botocore.session.get_session()
    global_options = []
    rest = list(words[1:])
    while rest and rest[0].startswith("--"):
        global_options.append(rest.pop(0))
        if rest and not rest[0].startswith("--"):
            rest.pop(0)
    service_name, operation_cli, *options = rest
    service = CLI_SERVICES.get(service_name, service_name)
    if service not in session.get_available_services():
        return [f"no AWS service {service_name!r}"]
    model = session.get_service_model(service)
    operations = {xform_name(name, "-"): name for name in model.operation_names}
    if operation_cli not in operations:
        return [f"{service_name} has no operation {operation_cli!r}"]
    shape = model.operation_model(operations[operation_cli]).input_shape
    members = shape.members if shape else {}
    known = set(CLI_GLOBAL_OPTIONS)
    for member, member_shape in members.items():
        known.add(f"--{xform_name(member, '-')}")
        if member_shape.type_name == "boolean":
            known.add(f"--no-{xform_name(member, '-')}")
    flags = [option for option in [*global_options, *options] if option.startswith("--")]
    return [
        f"{service_name} {operation_cli} has no option {flag}"
        for flag in flags
        if flag not in known
    ]


AWS_CLI_COMMANDS = [(line, c) for line, c in commands_of("aws") if c.words[0] == "aws"]


@pytest.mark.parametrize(
    ("line", "command"),
    AWS_CLI_COMMANDS,
    ids=[shlex.join(c.words)[:80] for _, c in AWS_CLI_COMMANDS],
)
def test_an_aws_cli_command_names_a_real_operation_and_its_options(
    line: Line, command: Classified
) -> None:
    assert aws_cli_problems(command.words) == []


def test_the_checks_refuse_a_wrong_flag_an_operation_and_a_context_key() -> None:
    """Each check can fail: a flag the tool lacks, an AWS operation or option that does not
    exist, a context key the stack does not read."""
    with pytest.raises(AssertionError, match="refuses"):
        parse_with_tool("tools.query", ["calls", "--campaing", "22222"])
    with pytest.raises(AssertionError, match="refuses"):
        parse_with_tool("tools.replay", ["--aws", "recordings", "--include-faild"])
    assert aws_cli_problems(("aws", "dynamodb", "query-items", "--table-name", "x")) != []
    assert aws_cli_problems(("aws", "sqs", "receive-message", "--queue", "x")) != []
    assert aws_cli_problems(("aws", "dynamodb", "query", "--no-scan-index-forward")) == []
    assert context_keys(("make", "deploy", "ARGS=-c stage=x -c retainDatas=false")) == [
        "stage",
        "retainDatas",
    ]
    assert "retainDatas" not in CONTEXT_KEYS


DOCUMENTED = [shlex.join(words) for line in LINES for words in line.commands] + [
    line.text for line in LINES
]
ADVICE = doc_commands.printed_advice()


@pytest.mark.parametrize("advice", ADVICE, ids=[f"{a.where} {a.command[:60]}" for a in ADVICE])
def test_every_command_the_code_prints_is_documented(advice: doc_commands.Advice) -> None:
    """A command a tool, an alarm or an output prints is documented, where the tests above and
    the e2e test check it (`<...>` and `...` stand for any one word)."""
    assert any(doc_commands.matches(advice.command, text) for text in DOCUMENTED), (
        f"{advice.where} prints {advice.command!r}: document it in README.md or docs/"
    )


def test_a_command_in_a_message_is_in_backticks() -> None:
    """Backticks are how the test above finds a printed command (alarm descriptions, outputs
    and error messages alike)."""
    assert doc_commands.unquoted_commands() == []


def test_advice_is_found_and_matched_as_printed() -> None:
    assert doc_commands.advice_in("replay it (`make replay ARGS='--aws events'`) now") == [
        "make replay ARGS='--aws events'"
    ]
    assert doc_commands.matches(
        "make replay ARGS='archived unstored --since ...'",
        'make replay ARGS="archived unstored --since 2026-11-01"',
    )
    assert not doc_commands.matches(
        "make replay ARGS='archived unstored --since ...'",
        'make replay ARGS="archived rejected --since 2026-11-01"',
    )
    assert len(ADVICE) > 20
