"""The shell commands the project prints, and what each one is.

Printed commands come from the README's and docs/*.md's ```bash / ```sh / ```shell / ```console
blocks and from the advice the code prints (backticked commands in its messages, alarm
descriptions and outputs, the ACTION commands of `make status`). Each documented command is one
of: `local` (runs against the local system, and the e2e test runs it), `aws` (meant for a deployed
stack: parsed by the tool's own parser, its CDK context keys or botocore's service model),
`shell` (plumbing: read, echo, a function the block defines...), or one of `UNCHECKED`, each with
its reason. A command that fits none fails the tests: printing a new command means documenting
it, where these tests check it. Advice the code prints must match a documented command."""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ADVICE_SOURCES = ["tools", "local", "infra", "functions"]
"""bench/ prints how each benchmark row was measured (`python -m bench ...`): BENCHMARKS.md."""
FENCE = re.compile(r"^ *```(bash|sh|shell|console)[ \t]*\n(.*?)^ *```", re.S | re.M)

MAKE_TOOLS = {
    "query": "tools.query",
    "replay": "tools.replay",
    "smoke": "tools.smoke",
    "status": "tools.status",
    "erase": "tools.erase",
    "demo": "local.demo",
    "local": "local",
}
CDK_TARGETS = {"deploy", "diff", "destroy", "synth"}
SHELL = {
    "read": "sets a variable from what you type",
    "echo": "prints",
    "sleep": "waits",
    "tr": "text plumbing",
    "sort": "text plumbing",
    "uniq": "text plumbing",
    "head": "text plumbing",
    "date": "prints a date",
    "base64": "encodes",
    "openssl": "signs a body as CallFire does",
    "for": "loop",
    "do": "loop",
    "done": "loop",
    "}": "end of a function the block defines",
    "python3": "inline Python of the standard library (JSON, secrets)",
    "export": "sets a variable",
    "eval": "runs the command its substitution prints (checked as that command)",
}
UNCHECKED = {
    "npx cdk bootstrap": "prepares an AWS account for the CDK: needs the account; no local parser",
    "make test": "the test suite itself: running it from a test would recurse",
    "make demo": "starts a second local system on the default ports (5500, 8080, 8081), which "
    "other work on this machine may hold; tests/e2e/test_local_system.py runs the same demo "
    "on free ports",
    "make local": "runs until Ctrl-C; every e2e test starts the same system from the same "
    "code on free ports (its options are parsed here)",
    ".venv/bin/python -m pytest": "runs a test file that `make test` already runs",
    "curl https://api.callfire.com": "CallFire's own API: needs a CallFire account and the "
    "internet",
    "curl $URL": "the deployed stack's URL: needs a deployed stack (the same requests run "
    "locally against the local gateway)",
}
"""Commands (by their first words) that cannot be checked here, and why."""


@dataclass(frozen=True)
class Line:
    """One logical shell line of a code block (continuations joined)."""

    page: str
    text: str
    commands: tuple[tuple[str, ...], ...]
    """Its simple commands, split into words (command substitutions are commands too)."""


@dataclass
class Classified:
    kind: str
    why: str
    words: tuple[str, ...] = field(default_factory=tuple)


# Shell text to simple commands


def logical_lines(block: str, console: bool = False) -> Iterator[str]:
    pending, joiner = "", "\n"
    for raw in block.splitlines():
        text = raw
        if console:
            if not pending and not text.lstrip().startswith("$ "):
                continue
            text = text.lstrip()[2:] if not pending else text
        pending = f"{pending}{joiner}{text}" if pending else text
        joiner = "\n"
        if pending.endswith("\\"):
            pending, joiner = pending[:-1], " "
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:
            continue  # an open quote: the command goes on on the next line
        if pending.strip():
            yield pending.strip()
        pending = ""
    assert not pending.strip(), f"unfinished command: {pending!r}"


def substitutions(text: str) -> tuple[str, list[str]]:
    """`text` with each `$(...)` replaced by one word, and the commands inside them."""
    inner: list[str] = []
    out = []
    index = 0
    quote = ""
    while index < len(text):
        char = text[index]
        if quote != "'" and text.startswith("$(", index):
            depth, end = 1, index + 2
            inside_quote = ""
            while end < len(text) and depth:
                c = text[end]
                if inside_quote:
                    if c == inside_quote:
                        inside_quote = ""
                elif c in "'\"":
                    inside_quote = c
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                end += 1
            inner.append(text[index + 2 : end - 1])
            out.append("SUBSTITUTED")
            index = end
            continue
        if char in "'\"" and not quote:
            quote = char
        elif char == quote:
            quote = ""
        out.append(char)
        index += 1
    return "".join(out), inner


def split_operators(text: str) -> list[str]:
    """Split on unquoted `;`, `&&`, `||`, `|` and newlines."""
    pieces, current, quote, index = [], [], "", 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
            current.append(char)
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char == "#" and (not current or current[-1] in " \t\n"):
            while index < len(text) and text[index] != "\n":
                index += 1
            continue
        elif char in ";|\n" or text.startswith("&&", index):
            pieces.append("".join(current))
            current = []
            index += 2 if text.startswith(("&&", "||"), index) else 1
            continue
        else:
            current.append(char)
        index += 1
    pieces.append("".join(current))
    return [piece.strip() for piece in pieces if piece.strip()]


ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
FUNCTION = re.compile(r"^([a-z_]+)\(\)\s*\{\s*(.*)$", re.S)


def simple_commands(text: str, functions: set[str]) -> Iterator[tuple[str, ...]]:
    flat, inner = substitutions(text)
    for command in inner:
        yield from simple_commands(command, functions)
    for piece in split_operators(flat):
        defined = FUNCTION.match(piece)
        if defined:
            functions.add(defined.group(1))
        words = shlex.split(defined.group(2) if defined else piece, comments=True)
        while words and ASSIGNMENT.match(words[0]):
            words = words[1:]
        if words and words[0] in {"for", "do"}:
            words = words[1:] if words[0] == "do" else []
        if words:
            yield tuple(words)


def documented_lines() -> list[Line]:
    lines = []
    for page in PAGES:
        functions: set[str] = set()
        for kind, block in FENCE.findall(page.read_text()):
            for text in logical_lines(block, console=kind == "console"):
                commands = tuple(simple_commands(text, functions))
                lines.append(Line(str(page.relative_to(ROOT)), text, commands))
    return lines


def defined_functions(lines: list[Line]) -> set[str]:
    return {m.group(1) for line in lines if (m := FUNCTION.match(line.text))}


# What a command is


def make_arguments(words: tuple[str, ...]) -> tuple[str, list[str]]:
    """`make target ARGS="..."` → (target, the ARGS words)."""
    target, arguments = words[1], []
    for word in words[2:]:
        assert word.startswith("ARGS="), f"make takes options through ARGS: {shlex.join(words)}"
        arguments += shlex.split(word.removeprefix("ARGS="))
    return target, arguments


def python_module(words: tuple[str, ...]) -> tuple[str, list[str]] | None:
    if len(words) >= 3 and words[0].endswith(("python", "python3")) and words[1] == "-m":
        return words[2], list(words[3:])
    return None


def unchecked(words: tuple[str, ...]) -> str | None:
    text = " ".join(words)
    for start, why in UNCHECKED.items():
        if start.startswith("curl "):
            url = next((w for w in words[1:] if "://" in w or w.startswith("$")), "")
            wanted = start.split()[1]
            if words[0] == "curl" and (
                url.startswith(wanted) if "://" in wanted else not local_url(url)
            ):
                return why
        elif text == start or text.startswith(f"{start} "):
            if start in {"make demo", "make local"} and "--running" in text:
                continue
            return why
    return None


def local_url(url: str) -> bool:
    return "tools.endpoints" in url or "127.0.0.1" in url or "localhost" in url


def classify(words: tuple[str, ...], line: str, functions: set[str]) -> Classified:
    why = unchecked(words)
    if words[0] == "curl" and local_url(line):
        return Classified("local", "against the local gateway", words)
    if why:
        return Classified("unchecked", why, words)
    if words[0] == "make":
        target, arguments = make_arguments(words)
        if target in CDK_TARGETS:
            return Classified("aws", "CDK: context keys", words)
        if target in MAKE_TOOLS:
            where = "aws" if "--aws" in arguments else "local"
            return Classified(where, f"python -m {MAKE_TOOLS[target]}", words)
        raise AssertionError(f"no check for make target {target!r}: {line}")
    module = python_module(words)
    if module:
        name, arguments = module
        if name.startswith("tools.") or name in {"local", "local.demo"}:
            return Classified("aws" if "--aws" in arguments else "local", name, words)
    if words[0].endswith("python") and words[1:2] == ("-c",):
        return Classified("local", "inline Python against the local system", words)
    if words[0] == "aws":
        return Classified("aws", "botocore service model", words)
    if words[:2] in {("npx", "cdk"), ("cdk", "deploy")}:
        return Classified("aws", "CDK: context keys", words)
    if words[0] in SHELL or words[0] in functions or words[0] == "SUBSTITUTED":
        return Classified("shell", SHELL.get(words[0], "a function the block defines"), words)
    raise AssertionError(f"a printed command no test checks: {shlex.join(words)!r} in {line!r}")


# Advice the code prints


COMMAND_START = re.compile(
    r"^(make [a-z-]+|(\.venv/bin/)?python3? -m |aws [a-z0-9-]+ [a-z]|curl |npx |cdk |eval "
    r"|[A-Z_]+=\$\(aws )"
)
BACKTICKED = re.compile(r"`([^`]+)`")
PLACEHOLDER = "<value>"


def rendered(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            text = rendered(value)
            parts.append(text if text is not None else PLACEHOLDER)
        return "".join(parts)
    return None


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for statement in body:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    found.add(id(statement.value))
    return found


def string_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every string (an implicitly joined one as one), f-strings as a whole."""
    skip = docstrings(tree)
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside |= {id(value) for value in node.values}
        if isinstance(node, ast.keyword) and node.arg == "prog":
            inside.add(id(node.value))  # a parser's name, not advice
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inside:
            continue
        if isinstance(node, ast.Constant | ast.JoinedStr) and rendered(node) is not None:
            yield node


def whole_lines(text: str) -> list[str]:
    """The lines of a message that are a command and nothing else (a `make` one may end with a
    remark in parentheses)."""
    lines = [line.strip() for line in text.splitlines()]
    return [
        line.split(" (", 1)[0] if line.startswith("make ") else line
        for line in lines
        if COMMAND_START.match(line) and "`" not in line
    ]


def advice_in(text: str) -> list[str]:
    spans = [span for span in BACKTICKED.findall(text) if COMMAND_START.match(span)]
    return spans + whole_lines(text)


UNQUOTED = re.compile(
    r"(make ({}) ARGS|aws [a-z0-9-]+ [a-z]+-[a-z-]+ --)".format(
        "|".join([*MAKE_TOOLS, *CDK_TARGETS])
    )
)
"""A command in a message outside backticks, where the tests would not see it."""


def unquoted_commands() -> list[Advice]:
    found = []
    for folder in ADVICE_SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in string_nodes(ast.parse(path.read_text())):
                text = "\n".join(
                    line for line in (rendered(node) or "").splitlines() if not whole_lines(line)
                )
                if UNQUOTED.search(BACKTICKED.sub("", text)):
                    found.append(Advice(f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return found


def status_make_calls(tree: ast.AST) -> Iterator[list[str]]:
    """The arguments of `self.commands.make(...)` in tools/status.py, names as placeholders."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "make"
            and ast.unparse(node.func.value) in {"self.commands", "self"}
        ):
            yield [rendered(arg) or PLACEHOLDER for arg in node.args]


BANNER = ("local/__main__.py", "instructions")
"""The `make local` banner: the e2e test prints it for its running system and runs its commands."""


@dataclass(frozen=True)
class Advice:
    where: str
    command: str


def printed_advice() -> list[Advice]:
    found = []
    for folder in ADVICE_SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text())
            where = str(path.relative_to(ROOT))
            banner = {
                id(inner)
                for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef) and (where, node.name) == BANNER
                for inner in ast.walk(node)
            }
            for node in string_nodes(tree):
                if id(node) in banner:
                    continue
                text = rendered(node) or ""
                found += [Advice(f"{where}:{node.lineno}", c) for c in advice_in(text)]
            if where == "tools/status.py":
                for arguments in status_make_calls(tree):
                    if arguments and arguments[0] != PLACEHOLDER:
                        target, *rest = arguments
                        for options in ([], ["--aws"]):
                            words = " ".join([*options, *rest])
                            command = f'make {target} ARGS="{words}"' if words else f"make {target}"
                            found.append(Advice(where, command))
    return found


def canonical(command: str) -> list[str]:
    """The words of a command, with make's ARGS split into its own words."""
    words = []
    for word in shlex.split(command):
        if word.startswith("ARGS="):
            words += shlex.split(word.removeprefix("ARGS="))
        else:
            words.append(word)
    return words


ANY = "ANYTHINGHERE"


def matches(advice: str, documented: str) -> bool:
    """The advice, with `<...>` placeholders and `...` matching any words, is the command."""
    try:
        wanted = " ".join(canonical(re.sub(r"<[^>]*>|\.\.\.", ANY, advice)))
        given = " ".join(canonical(documented))
    except ValueError:
        return False
    pattern = ".+?".join(re.escape(part) for part in wanted.split(ANY))
    return re.fullmatch(pattern, given) is not None
