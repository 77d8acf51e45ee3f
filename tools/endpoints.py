"""One value of the running local system's endpoints file, for shell commands:

    curl -s -X POST --data-binary @tests/events/call_finished.xml \\
      "$(.venv/bin/python -m tools.endpoints postback_url)"

The keys are those `make local` writes (functions/names.py LocalEndpoint)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from functions.names import LocalEndpoint
from tools.target import ENDPOINTS_FILE

KEYS = sorted(
    value
    for name, value in vars(LocalEndpoint).items()
    if name.isupper() and isinstance(value, str)
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.endpoints",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("key", choices=KEYS, help="which value to print")
    parser.add_argument(
        "--endpoints", type=Path, default=ENDPOINTS_FILE, help="the local system's endpoints file"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    try:
        endpoints = json.loads(Path(options.endpoints).read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(
            f"{options.endpoints} does not exist: start the local system with `make local`",
            file=sys.stderr,
        )
        return 1
    if options.key not in endpoints:
        print(f"{options.endpoints} has no {options.key!r}", file=sys.stderr)
        return 1
    print(endpoints[options.key])
    return 0


if __name__ == "__main__":
    sys.exit(main())
