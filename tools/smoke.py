"""Smoke test: does the receiver answer, check the token, store, count a second delivery? Run it
after a deploy (`make smoke ARGS=--aws`) or against `make local` (`make smoke`).

    python -m tools.smoke [--aws [--stage STAGE]] [--json]

It sends a synthetic call report marked as a smoke test (call id `smoke-<uuid>`, campaign
`smoke`, no recordings): first without the token (403, nothing stored), then with it (200
stored), reads the item back and checks the mapped attributes, sends it again (200 duplicate,
`deliveries` 2), checks that nothing else was kept (no archived body, no recording job), and
deletes the item. With the v2 webhook route, it also sends a signed v2 delivery. Each step prints
one line, PASS or FAIL with the cause and what to check; the exit code is 0 when every step
passed, 1 when one failed, 2 when the target could not be read.

The postback function leaves smoke tests out of `ReportsReceived`, so a smoke test never quiets
the `ReportsSilent` alarm: it proves that the receiver works, not that CallFire sends.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.archive import archive_key
from functions.names import (
    SMOKE_CALL_ID_PREFIX,
    SMOKE_CAMPAIGN_ID,
    SMOKE_WEBHOOK_ID,
    CallAttribute,
    CallsTable,
    Item,
    LocalEndpoint,
    Output,
    Prefix,
    Route,
)
from functions.reports.items import body_key
from tools.target import Target, TargetError, add_target_arguments, chosen_target, plain_item

HTTP_TIMEOUT_SECONDS = 30
PHONE_NUMBER = "+15555550100"
"""A fictional number (555-0100..0199 are reserved for fiction); the `+` must survive."""
V2_CALL_EVENT = ("OutboundCall", "Finished")


class Result(StrEnum):
    PASS = "PASS"  # noqa: S105 - a result, not a password
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Step:
    step: str
    result: Result
    detail: str
    check: str = ""

    def line(self) -> str:
        text = f"{self.result.value}  {self.step}: {self.detail}"
        return f"{text}. Check: {self.check}" if self.check else text


class StepFailed(Exception):
    def __init__(self, detail: str, check: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.check = check


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    text: str

    def says(self) -> str:
        """`403 forbidden`, `200 stored`: the status and what the body calls it."""
        word = self.body.get("status") or self.body.get("error") or self.body.get("message")
        return f"{self.status} {word}" if word else f"{self.status} {self.text[:80]!r}"


@dataclass(frozen=True)
class FrontDoor:
    """Where reports are sent, and the secrets that let them in (never printed)."""

    postback_url: str
    token: str = field(repr=False)
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    where: str = ""
    """What to check when the URL is wrong: where it was read."""
    token_where: str = ""
    """What to check when the token is refused."""


def front_door(target: Target) -> FrontDoor:
    """The postback URL and token, the way the other tools find the target: the local system's
    endpoints file, or the stack's outputs and its token secret."""
    if target.local:
        url, token = split_token(str(target.endpoints.get(LocalEndpoint.POSTBACK_URL, "")))
        return FrontDoor(
            postback_url=url,
            token=token,
            webhook_url=target.endpoints.get(LocalEndpoint.WEBHOOK_URL),
            webhook_secret=target.endpoints.get(LocalEndpoint.WEBHOOK_SECRET),
            where=f"`{LocalEndpoint.POSTBACK_URL}` in the endpoints file (is `make local` "
            "running, and is the file its own?)",
            token_where=f"the token in `{LocalEndpoint.POSTBACK_URL}` of the endpoints file: is "
            "it the running `make local`'s own file?",
        )
    outputs = target.outputs
    if Output.POSTBACK_URL not in outputs or Output.TOKEN_SECRET_ARN not in outputs:
        raise TargetError(
            f"stack {target.stack_name} has no {Output.POSTBACK_URL} or "
            f"{Output.TOKEN_SECRET_ARN} output: is it the receiver's stack?"
        )
    webhook_secret_arn = outputs.get(Output.WEBHOOK_SECRET_ARN)
    return FrontDoor(
        postback_url=outputs[Output.POSTBACK_URL],
        token=secret_value(target, outputs[Output.TOKEN_SECRET_ARN]),
        webhook_url=outputs.get(Output.WEBHOOK_URL),
        webhook_secret=secret_value(target, webhook_secret_arn) if webhook_secret_arn else None,
        where=f"the {Output.POSTBACK_URL} output",
        token_where=f"that the secret {Output.TOKEN_SECRET_ARN} names holds the current token "
        "(after a rotation, running functions keep the old one for up to 5 minutes)",
    )


def secret_value(target: Target, arn: str) -> str:
    try:
        value = target.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    except (ClientError, BotoCoreError) as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        raise TargetError(f"cannot read the secret {arn}: {code}") from None
    return str(value)


def split_token(url: str) -> tuple[str, str]:
    """`https://h/postbacks?token=T` as the URL without its token, and the token."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    token = (query.pop(Route.TOKEN_PARAMETER, None) or [""])[0]
    rest = urlencode({name: values[0] for name, values in query.items()})
    return urlunsplit(parts._replace(query=rest)), token


def with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    parameter = urlencode({Route.TOKEN_PARAMETER: token})
    return urlunsplit(
        parts._replace(query=f"{parts.query}&{parameter}" if parts.query else parameter)
    )


def post(url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
    if urlsplit(url).scheme not in ("http", "https"):
        raise OSError(f"not an http(s) URL: {url.split('?', maxsplit=1)[0]!r}")
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))  # noqa: S310 - http(s) only, checked above
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    text = raw.decode("utf-8", "replace")
    try:
        body_json = json.loads(text)
    except ValueError:
        body_json = {}
    return Answer(status, body_json if isinstance(body_json, dict) else {}, text)


@dataclass(frozen=True)
class SmokeReport:
    """The synthetic call report and the item it must become (docs/contract.md, section 2)."""

    call_id: str
    body: bytes
    expected: dict[str, Any]

    @property
    def key(self) -> dict[str, dict[str, str]]:
        return {
            CallsTable.PARTITION_KEY: {"S": self.call_id},
            CallsTable.SORT_KEY: {"S": "call"},
        }


def smoke_report(run_id: str, now: datetime) -> SmokeReport:
    call_id = f"{SMOKE_CALL_ID_PREFIX}{run_id}"
    started = now.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<call-finished>\n"
        f"<callid>{call_id}</callid>\n"
        f"<campaignid>{SMOKE_CAMPAIGN_ID}</campaignid>\n"
        f"<phonenumber>{PHONE_NUMBER}</phonenumber>\n"
        "<tags><tag>smoke test</tag></tags>\n"
        "<disposition>SMOKE TEST</disposition>\n"
        "<duration>1.5</duration>\n"
        f"<callstart>{started:%Y-%m-%d %H:%M:%S}.0</callstart>\n"
        '<stored-data><var name="sentBy">make smoke</var></stored-data>\n'
        "</call-finished>\n"
    ).encode()
    expected = {
        CallAttribute.CALL_ID: call_id,
        CallAttribute.EVENT_TYPE: "call",
        CallAttribute.CAMPAIGN_ID: SMOKE_CAMPAIGN_ID,
        CallAttribute.PHONE_NUMBER: PHONE_NUMBER,
        CallAttribute.TAGS: ["smoke test"],
        CallAttribute.DISPOSITION: "SMOKE TEST",
        CallAttribute.DURATION_SECONDS: Decimal("1.5"),
        CallAttribute.CALL_START: started.isoformat(),
        CallAttribute.STORED_DATA: {"sentBy": "make smoke"},
        Item.RAW: body.decode(),
        Item.DELIVERIES: 1,
    }
    return SmokeReport(call_id, body, expected)


XML = {"Content-Type": "text/xml"}


class Smoke:
    """The steps, in order, against one target; each returns its PASS line or raises
    StepFailed with the cause and what to check."""

    def __init__(self, target: Target, door: FrontDoor, report: SmokeReport) -> None:
        self.target = target
        self.door = door
        self.report = report
        self.started = datetime.now(UTC)
        self.request_ids: list[str] = []
        self.dynamodb = target.client("dynamodb")

    def steps(self) -> Iterator[tuple[str, Callable[[], str]]]:
        yield "no token", self.refused_without_token
        yield "stored", self.stored
        yield "read back", self.read_back
        yield "delivered again", self.delivered_again
        yield "nothing else", self.nothing_else

    def refused_without_token(self) -> str:
        answer = self.send(self.door.postback_url, self.report.body, XML)
        self.remember(answer)
        if answer.status != 403:
            raise StepFailed(
                f"a report without the token was answered {answer.says()}, not 403",
                "that this URL is the receiver's postback route "
                f"({self.door.postback_url}); anyone could store reports otherwise",
            )
        if self.item() is not None:
            raise StepFailed(
                "answered 403, yet the item exists", "the postback function's token check"
            )
        return "403 forbidden, nothing stored"

    def stored(self) -> str:
        answer = self.send(
            with_token(self.door.postback_url, self.door.token), self.report.body, XML
        )
        self.remember(answer)
        if answer.status == 403:
            raise StepFailed("the token was refused (403 forbidden)", self.door.token_where)
        if answer.status != 200 or answer.body.get("status") != "stored":
            raise StepFailed(
                f"answered {answer.says()}: {answer.body.get('message', answer.text[:200])}",
                "the postback function's log group (the answer's requestId) and "
                "docs/contract.md, section 1",
            )
        if (answer.body.get("kind"), answer.body.get("id")) != ("call", self.report.call_id):
            raise StepFailed(
                f"answered 200 stored for {answer.body.get('kind')} {answer.body.get('id')}, not "
                f"call {self.report.call_id}",
                "the report reader (functions/reports/legacy_xml.py)",
            )
        return f"200 stored, call {self.report.call_id}"

    def read_back(self) -> str:
        item = self.item()
        if item is None:
            raise StepFailed(
                f"answered 200 stored, but {self.target.calls_table} has no item "
                f"{self.report.call_id}",
                "that the postback function writes to this calls table "
                f"({CallAttribute.CALL_ID} {self.report.call_id})",
            )
        wrong = [
            f"{name} is {item.get(name)!r}, not {value!r}"
            for name, value in self.report.expected.items()
            if item.get(name) != value
        ]
        if Item.RECEIVED_AT not in item:
            wrong.append(f"{Item.RECEIVED_AT} is missing")
        if wrong:
            raise StepFailed(
                "the item differs from the report: " + "; ".join(wrong),
                "the mapping (functions/reports/items.py) against docs/contract.md, section 2",
            )
        return f"{len(self.report.expected) + 1} attributes as the contract maps them"

    def delivered_again(self) -> str:
        answer = self.send(
            with_token(self.door.postback_url, self.door.token), self.report.body, XML
        )
        self.remember(answer)
        if answer.status != 200 or answer.body.get("status") != "duplicate":
            raise StepFailed(
                f"the same body again was answered {answer.says()}, not 200 duplicate",
                "the store-once rule (functions/postback/store_once.py)",
            )
        deliveries = (self.item() or {}).get(Item.DELIVERIES)
        if deliveries != 2:
            raise StepFailed(
                f"answered 200 duplicate, but {Item.DELIVERIES} is {deliveries}, not 2",
                "the delivery counter's update (DynamoReportStore.count_delivery)",
            )
        return f"200 duplicate, {Item.DELIVERIES} 2"

    def nothing_else(self) -> str:
        kept = [key for key in self.archive_keys() if self.exists(key)]
        if kept:
            raise StepFailed(
                f"bodies were archived as well: {', '.join(kept)}",
                "their metadata `reason` and `detail` (aws s3api head-object)",
            )
        recordings = (self.item() or {}).get(CallAttribute.RECORDINGS)
        if recordings:
            raise StepFailed(
                f"the item has recording entries ({len(recordings)}) although the report has none",
                "the mapping of <recordings> (functions/reports/legacy_xml.py)",
            )
        if self.target.bucket is None:
            return "no recording job (no bucket named: archives not checked)"
        return f"no body in {Prefix.REJECTED}, {Prefix.UNSTORED} or {Prefix.RAW}, no recording job"

    def clean_up(self) -> str:
        """Delete the item, whatever the other steps did."""
        existed = self.item() is not None
        self.dynamodb.delete_item(TableName=self.target.calls_table, Key=self.report.key)
        if self.item() is not None:
            raise StepFailed("the item is still there after DeleteItem", "the calls table")
        return "the item is deleted" if existed else "nothing to delete"

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        try:
            return post(url, body, headers)
        except OSError as error:
            raise StepFailed(
                f"cannot reach {url.split('?', maxsplit=1)[0]}: {getattr(error, 'reason', error)}",
                f"{self.door.where}; your network",
            ) from None

    def remember(self, answer: Answer) -> None:
        request_id = answer.body.get("requestId")
        if isinstance(request_id, str):
            self.request_ids.append(request_id)

    def item(self) -> dict[str, Any] | None:
        found = self.dynamodb.get_item(
            TableName=self.target.calls_table, Key=self.report.key, ConsistentRead=True
        ).get("Item")
        return plain_item(found) if found else None

    def archive_keys(self) -> list[str]:
        """Where a body of these requests would be archived, on each day the run touched, and
        where the report's body would be kept were it too large for its item."""
        days = {self.started, datetime.now(UTC)}
        archived = {
            archive_key(prefix, moment, request_id)
            for prefix in (Prefix.REJECTED, Prefix.UNSTORED)
            for moment in days
            for request_id in self.request_ids
        }
        return sorted({*archived, body_key(self.report.body.decode())})

    def exists(self, key: str) -> bool:
        if self.target.bucket is None:
            return False
        listing = self.target.client("s3").list_objects_v2(
            Bucket=self.target.bucket, Prefix=key, MaxKeys=1
        )
        return bool(listing.get("KeyCount"))


def signature_of(secret: str, body: bytes) -> str:
    """CallFire's v2 `X-CallFire-Signature`: base64(HMAC-SHA1(secret, body))."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def v2_delivery(call_id: int, now: datetime) -> bytes:
    """A v2 webhook delivery of one finished outbound call, as CallFire sends them
    (docs: /work/notes/callfire-v2, `callbackPayloadOnCall.json`); v2 ids are numbers, so the
    smoke test marks it by its webhook name and label instead."""
    moment = int(now.timestamp() * 1000)
    resource, event = V2_CALL_EVENT
    delivery = {
        "timestamp": moment,
        "webhookId": int(SMOKE_WEBHOOK_ID),
        "webhookName": SMOKE_CAMPAIGN_ID,
        "resourceType": resource,
        "events": [
            {
                "timestamp": moment,
                "webhookId": int(SMOKE_WEBHOOK_ID),
                "resourceType": resource,
                "eventType": event,
                "resource": {
                    "id": call_id,
                    "fromNumber": PHONE_NUMBER.lstrip("+"),
                    "toNumber": PHONE_NUMBER.lstrip("+"),
                    "state": "FINISHED",
                    "inbound": False,
                    "created": moment,
                    "modified": moment,
                    "labels": [SMOKE_CAMPAIGN_ID],
                    "finalCallResult": "LA",
                    "records": [],
                },
            }
        ],
    }
    return json.dumps(delivery).encode()


class SmokeV2:
    """The v2 webhook route (`POST /webhooks`): a delivery without a signature is refused, a
    signed one is stored (`200 {"status": "stored", ...}`, a calls-table item keyed by the call's
    id and `call`), and the item is deleted. The webhook function leaves it out of
    `ReportsReceived` (functions/reports/smoke.py, is_smoke_delivery)."""

    def __init__(self, smoke: Smoke, call_id: int) -> None:
        self.smoke = smoke
        self.call_id = call_id
        self.body = v2_delivery(call_id, smoke.started)
        self.key = {
            CallsTable.PARTITION_KEY: {"S": str(call_id)},
            CallsTable.SORT_KEY: {"S": "call"},
        }

    def signed_delivery(self) -> str:
        door = self.smoke.door
        if door.webhook_url is None or door.webhook_secret is None:
            raise StepFailed("no v2 webhook route", "the WebhookUrl and WebhookSecretArn outputs")
        json_type = {"Content-Type": "application/json"}
        unsigned = self.smoke.send(door.webhook_url, self.body, json_type)
        if unsigned.status != 403:
            raise StepFailed(
                f"a delivery without a signature was answered {unsigned.says()}, not 403",
                "the webhook function's signature check",
            )
        signed = self.smoke.send(
            door.webhook_url,
            self.body,
            {**json_type, Route.SIGNATURE_HEADER: signature_of(door.webhook_secret, self.body)},
        )
        self.smoke.remember(signed)
        if signed.status != 200 or signed.body.get("status") != "stored":
            raise StepFailed(
                f"a signed delivery was answered {signed.says()}, not 200 stored",
                "the webhook secret (WebhookSecretArn / webhook_secret) and the webhook "
                "function's log group",
            )
        if self.item() is None:
            raise StepFailed(
                f"answered 200 stored, but the calls table has no item {self.call_id}",
                "where the webhook function stores v2 calls",
            )
        return f"unsigned 403, signed 200 stored, call {self.call_id} read back"

    def clean_up(self) -> str:
        self.smoke.dynamodb.delete_item(TableName=self.smoke.target.calls_table, Key=self.key)
        return "the v2 item is deleted"

    def item(self) -> dict[str, Any] | None:
        found = self.smoke.dynamodb.get_item(
            TableName=self.smoke.target.calls_table, Key=self.key, ConsistentRead=True
        ).get("Item")
        return plain_item(found) if found else None


def run_smoke(target: Target, door: FrontDoor, run_id: str | None = None) -> list[Step]:
    """Every step's line. After a failure the later steps are skipped, but the clean-up runs."""
    run_id = run_id or str(uuid.uuid4())
    smoke = Smoke(target, door, smoke_report(run_id, datetime.now(UTC)))
    results: list[Step] = []
    failed = False
    for name, step in smoke.steps():
        if failed:
            results.append(Step(name, Result.SKIP, "not run: an earlier step failed"))
            continue
        results.append(attempt(name, step))
        failed = results[-1].result is Result.FAIL
    results.append(attempt("cleaned up", smoke.clean_up))
    if door.webhook_url and door.webhook_secret:
        v2 = SmokeV2(smoke, uuid.UUID(run_id).int)
        results.append(attempt("v2 webhook", v2.signed_delivery))
        results.append(attempt("v2 cleaned up", v2.clean_up))
    else:
        results.append(
            Step(
                "v2 webhook",
                Result.SKIP,
                "this receiver has no v2 webhook route "
                f"({Output.WEBHOOK_URL} output / {LocalEndpoint.WEBHOOK_URL})",
            )
        )
    return results


def attempt(name: str, step: Callable[[], str]) -> Step:
    try:
        return Step(name, Result.PASS, step())
    except StepFailed as failure:
        return Step(name, Result.FAIL, failure.detail, failure.check)
    except (ClientError, BotoCoreError) as error:
        return Step(
            name,
            Result.FAIL,
            f"could not check: {error}",
            "your AWS credentials and region (locally: is `make local` running?)",
        )


def passed(steps: list[Step]) -> bool:
    return not any(step.result is Result.FAIL for step in steps) and any(
        step.result is Result.PASS for step in steps
    )


def parser() -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(
        prog="python -m tools.smoke",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_target_arguments(arguments)
    arguments.add_argument("--json", action="store_true", help="print JSON, not lines")
    return arguments


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    try:
        target = chosen_target(options)
        door = front_door(target)
    except (TargetError, ClientError, BotoCoreError, KeyError) as error:
        print(f"smoke test failed: {error}", file=sys.stderr)
        return 2
    run_id = str(uuid.uuid4())
    if not options.json:
        print(
            f"smoke test of {target.description}: call {SMOKE_CALL_ID_PREFIX}{run_id}", flush=True
        )
    steps = run_smoke(target, door, run_id)
    ok = passed(steps)
    if options.json:
        print(
            json.dumps(
                {
                    "target": target.description,
                    "callId": f"{SMOKE_CALL_ID_PREFIX}{run_id}",
                    "passed": ok,
                    "steps": [{**asdict(step), "result": step.result.value} for step in steps],
                },
                indent=2,
            )
        )
    else:
        print("\n".join(step.line() for step in steps))
        failures = sum(step.result is Result.FAIL for step in steps)
        print("smoke test passed" if ok else f"smoke test FAILED ({failures} failed)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
