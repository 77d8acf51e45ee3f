"""What the tools' command lines share: options accepted before or after the command (people type
both `--json calls --id 1` and `calls --id 1 --json`), and dates checked with a clear message."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import Any

AddOptions = Callable[[argparse.ArgumentParser, bool], None]
"""Adds a tool's shared options to a parser; the flag says whether it is the top-level one."""


def default(value: Any, top: bool) -> Any:
    """An option's default on the top-level parser; on a command's parser none at all, so that an
    option given before the command is not reset by the command's parser."""
    return value if top else argparse.SUPPRESS


def commands(
    parser: argparse.ArgumentParser, add_options: AddOptions
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    add_options(parser, True)
    return parser.add_subparsers(dest="command", required=True, metavar="COMMAND")


def command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    add_options: AddOptions,
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    add_options(parser, False)
    return parser


def day(text: str) -> date:
    """`YYYY-MM-DD`, or an error that says what is wrong with it."""
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        reason = str(error) if text[:4].isdigit() and len(text) == 10 else "expected YYYY-MM-DD"
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: {reason}") from None


def check_period(parser: argparse.ArgumentParser, since: date | None, until: date | None) -> None:
    if since is not None and until is not None and until < since:
        parser.error(f"--until {until} is before --since {since}")
