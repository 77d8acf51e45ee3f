"""Erase a person, a call or a campaign: every item, recording (all versions) and archived body,
with an audit record of what went (never the number itself).

    python -m tools.erase --phone 2132212289 --dry-run     what would go, changing nothing
    python -m tools.erase --phone 2132212289               erase it (asks first; --yes does not)
    python -m tools.erase --call-id 111111                 one call, its texts and recordings
    python -m tools.erase --campaign 22222                 a whole campaign
    python -m tools.erase --history [--phone 2132212289]   the audit records

A number is matched in every spelling CallFire uses (`2132212289`, `12132212289`, `+1...`; --exact
for the number as written only), on either side of a call. --index-only skips the table scan
(faster; misses the other side of a call and items without callStart); --deep also reads every
archived body and looks inside each item's raw body. The target is chosen as for the query tool:
the local system while `.local/endpoints.json` exists, else the deployed stack (--aws / --local).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from functions.reports.links import LinkKind
from tools.erasure import NOT_ERASED, Eraser, ErasureIncomplete, Options, Plan, Subject
from tools.table import render
from tools.target import Target, TargetError, add_target_arguments, chosen_target

CONFIRMATION = "erase"


def subject_of(options: argparse.Namespace) -> Subject | None:
    if options.phone:
        return Subject(LinkKind.PHONE, options.phone.strip())
    if options.call_id:
        return Subject(LinkKind.CALL, options.call_id.strip())
    if options.campaign:
        return Subject(LinkKind.CAMPAIGN, options.campaign.strip())
    return None


def read_salt(target: Target) -> str | None:
    """The stack's hash salt, or None (an older stack, or no permission to read it)."""
    if not target.hash_salt_secret:
        return None
    try:
        secret = target.client("secretsmanager").get_secret_value(SecretId=target.hash_salt_secret)
    except (ClientError, BotoCoreError):
        return None
    value: str = secret["SecretString"]
    return value


def describe(plan: Plan) -> str:
    lines = [f"items: {len(plan.items)}"]
    lines += [f"  {item.table}: {item.describe()}" for item in plan.items]
    lines.append(
        f"recordings and bodies kept in raw/ (every version): {len(plan.object_places)} "
        "folders or keys"
    )
    lines += [f"  {place}" for place in plan.object_places]
    lines.append(f"archived bodies (every version): {len(plan.archived_bodies)}")
    lines += [f"  {key}" for key in plan.archived_bodies]
    lines.append(f"archive index markers: {len(plan.markers)}")
    lines += [f"note: {note}" for note in plan.notes]
    return "\n".join(lines)


def not_erased() -> str:
    return "This tool cannot erase:\n" + "\n".join(f"  - {what}" for what in NOT_ERASED)


def confirmed(plan: Plan, stdin: TextIO, out: TextIO) -> bool:
    if not stdin.isatty():
        return False
    out.write(
        f"Erase {len(plan.items)} items, {len(plan.object_places)} recording places and "
        f"{len(plan.archived_bodies)} archived bodies for good? Type '{CONFIRMATION}': "
    )
    out.flush()
    return stdin.readline().strip() == CONFIRMATION


def summary(erased: Mapping[str, int]) -> str:
    return ", ".join(f"{kind}: {count}" for kind, count in sorted(erased.items())) or "nothing"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.erase",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_target_arguments(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--phone", metavar="NUMBER", help="a person's phone number")
    which.add_argument("--call-id", metavar="ID", help="one call, its texts and recordings")
    which.add_argument("--campaign", metavar="ID", help="a campaign and everything in it")
    parser.add_argument("--dry-run", action="store_true", help="list what would go; change nothing")
    parser.add_argument("--yes", action="store_true", help="do not ask before erasing")
    parser.add_argument("--exact", action="store_true", help="the number only as written")
    parser.add_argument("--index-only", action="store_true", help="no table scan (faster)")
    parser.add_argument("--deep", action="store_true", help="also read every archived body")
    parser.add_argument("--history", action="store_true", help="list the audit records")
    return parser


def main(argv: list[str] | None = None, stdin: TextIO | None = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    subject = subject_of(options)
    if subject is None and not options.history:
        parser.error("one of --phone, --call-id, --campaign or --history is required")
    try:
        target = chosen_target(options)
        print(f"target: {target.description}", file=sys.stderr)
        eraser = Eraser(target, salt=read_salt(target))
        if options.history or subject is None:
            return _history(eraser, subject)
        return _erase(eraser, subject, options, stdin or sys.stdin)
    except (TargetError, ClientError, BotoCoreError, ErasureIncomplete, ValueError) as error:
        print(f"erase failed: {error}", file=sys.stderr)
        return 2


def _erase(eraser: Eraser, subject: Subject, options: argparse.Namespace, stdin: TextIO) -> int:
    plan = eraser.plan(
        subject, Options(exact=options.exact, index_only=options.index_only, deep=options.deep)
    )
    print(describe(plan))
    if plan.empty:
        print("Nothing found to erase.")
        print(not_erased())
        return 0
    if options.dry_run:
        print("Dry run: nothing was erased.")
        print(not_erased())
        return 0
    if not options.yes and not confirmed(plan, stdin, sys.stdout):
        print("Not erased: confirm by typing it on a terminal, or pass --yes.", file=sys.stderr)
        return 2
    erased: dict[str, int] = {}
    complete = False
    try:
        erased = dict(eraser.execute(plan))
        complete = True
    finally:
        key = eraser.record(plan, erased, complete=complete)
        print(f"audit record: s3://{eraser.bucket}/{key}")
    print(f"Erased: {summary(erased)}.")
    print(not_erased())
    return 0


def _history(eraser: Eraser, subject: Subject | None) -> int:
    records = eraser.history(subject)
    rows = [
        [
            record["erasedAt"],
            record["subject"]["kind"],
            (record["subject"]["hash"] or "")[:12],
            "yes" if record["complete"] else "NO",
            summary(record["erased"]),
        ]
        for record in records
    ]
    print(render(["erasedAt", "kind", "hash", "complete", "erased"], rows, max_width=80))
    return 0


if __name__ == "__main__":
    sys.exit(main())
