"""Load for the end-to-end runs: unique reports of every kind, from both routes (legacy postbacks
and signed v2 webhook deliveries), some sent twice, some retried by the sender, some cut off
mid-body, from concurrent senders over real HTTP; then a count of what the tables hold against
what was sent."""

from __future__ import annotations

import http.client
import json
import random
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from boto3.dynamodb.types import TypeDeserializer

from functions.postback.signature import signature_of

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "events"
_deserializer = TypeDeserializer()
V2_SAMPLES = (
    "outbound_call_finished.json",
    "outbound_text_finished.json",
    "inbound_text_finished.json",
    "call_broadcast_finished.json",
)


@dataclass(frozen=True)
class Report:
    kind: str
    key: str
    body: bytes
    webhook: bool = False
    """A v2 webhook delivery (to /webhooks, signed), else a legacy postback."""


@dataclass(frozen=True)
class Routes:
    """Where each kind of report goes: the postback URL (with token), the webhook URL and the
    secret deliveries are signed with."""

    postback_url: str
    webhook_url: str = ""
    webhook_secret: str = ""

    def request(self, report: Report) -> tuple[str, dict[str, str]]:
        """The request target (path and query) and headers for `report`."""
        if not report.webhook:
            parts = urlsplit(self.postback_url)
            return f"{parts.path}?{parts.query}", {"Content-Type": "text/xml"}
        return urlsplit(self.webhook_url).path, {
            "Content-Type": "application/json",
            "X-CallFire-Signature": signature_of(self.webhook_secret, report.body),
        }


@dataclass(frozen=True)
class Send:
    report: Report
    retry: bool = False
    cut_off: bool = False


@dataclass
class LoadResult:
    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    resent_on_new_connection: int = 0
    """Requests sent again because the kept-alive connection they went out on had been closed."""

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0


def make_reports(
    count: int,
    *,
    run_id: str,
    recording_url: str | None = None,
    recordings: bool = True,
    v2_share: float = 0.0,
) -> list[Report]:
    """`count` distinct reports: about 55% calls, 20% texts sent, 20% replies, 5% campaigns.
    Calls carry the document's recording (at `recording_url`), or none. Every report whose
    position falls in `v2_share` is a v2 webhook delivery instead (a call, text sent, text reply
    or call broadcast from CallFire's published samples); keys are `run_id` and the position, so
    they are digits when `run_id` is (v2 ids are numbers: with v2 deliveries, `run_id` must not
    start with 0, which the number would lose)."""
    if v2_share and run_id.startswith("0"):
        raise ValueError(f"run_id {run_id!r}: a v2 id would lose its leading zero")
    templates = {
        name: (SAMPLES / f"{name}.xml").read_bytes()
        for name in ("call_finished", "text_sent", "text_reply", "campaign_finished")
    }
    if not recordings:
        call = templates["call_finished"]
        templates["call_finished"] = call[: call.index(b"<recordings>")] + b"</call-finished>\n"
    elif recording_url:
        templates["call_finished"] = templates["call_finished"].replace(
            b"https://www.callfire.com/cloud/1/files/recording/", recording_url.encode()
        )
    kinds = ["call_finished"] * 11 + ["text_sent"] * 4 + ["text_reply"] * 4 + ["campaign_finished"]
    every = round(1 / v2_share) if v2_share else 0
    reports = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        key = f"{run_id}{index:06d}"
        if every and index % every == every - 1:
            reports.append(_v2_report(key, index // every))
            continue
        old = b"<id>22222</id>" if kind == "campaign_finished" else b"<callid>111111</callid>"
        new = f"<id>{key}</id>" if kind == "campaign_finished" else f"<callid>{key}</callid>"
        reports.append(Report(kind, key, templates[kind].replace(old, new.encode())))
    return reports


def _v2_report(key: str, turn: int) -> Report:
    name = V2_SAMPLES[turn % len(V2_SAMPLES)]
    delivery = json.loads((SAMPLES / "v2" / name).read_text())
    event = delivery["events"][0]
    event["resource"]["id"] = int(key)
    kind = "campaign" if event["resourceType"] == "CallBroadcast" else event["resourceType"]
    return Report(kind, key, json.dumps(delivery).encode(), webhook=True)


def plan(
    reports: list[Report],
    *,
    duplicate: float = 0.0,
    retry: float = 0.0,
    cut_off: float = 0.0,
    seed: int = 7,
) -> list[Send]:
    """Every report once; a `duplicate` share sent again later; a `retry` share re-sent at once by
    the sender (as after a lost answer); a `cut_off` share cut off mid-body, half of those never
    sent whole (so they must not be stored), half sent whole afterwards."""
    chooser = random.Random(seed)  # noqa: S311 - a reproducible load plan, not a secret
    sends: list[Send] = []
    for report in reports:
        if chooser.random() < cut_off:
            sends.append(Send(report, cut_off=True))
            if chooser.random() < 0.5:
                continue
        sends.append(Send(report, retry=chooser.random() < retry))
    sends += [Send(report) for report in reports if chooser.random() < duplicate]
    chooser.shuffle(sends)
    return sends


def send_all(
    routes: Routes | str, sends: list[Send], *, senders: int = 16, timeout: float = 30
) -> LoadResult:
    sender = _Sender(routes if isinstance(routes, Routes) else Routes(routes), sends, timeout)
    started = time.perf_counter()
    threads = [threading.Thread(target=sender.work) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sender.result.seconds = time.perf_counter() - started
    return sender.result


class _Sender:
    """What the sending threads share: the sends left, the result, and how to reach the routes."""

    def __init__(self, routes: Routes, sends: list[Send], timeout: float) -> None:
        self.routes = routes
        self.parts = urlsplit(routes.postback_url)
        self.pending = list(reversed(sends))
        self.timeout = timeout
        self.lock = threading.Lock()
        self.result = LoadResult()

    def work(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while True:
            with self.lock:
                if not self.pending:
                    break
                send = self.pending.pop()
            target, headers = self.routes.request(send.report)
            if send.cut_off:
                host = self.parts.hostname or "127.0.0.1"
                _cut_off(host, self.parts.port or 80, target, headers, send.report.body)
                self.record("cut off", None)
                continue
            for _ in range(2 if send.retry else 1):
                connection = self.post(connection, target, headers, send.report.body)

    def post(
        self,
        connection: http.client.HTTPConnection | None,
        target: str,
        headers: dict[str, str],
        body: bytes,
    ) -> http.client.HTTPConnection | None:
        """One request; the connection to reuse next. A connection the server closed while it
        sat idle fails on reuse before any answer: the request is sent once more on a new one,
        as HTTP clients do (RFC 9112, section 9.3.1). Any other failure is an `error`."""
        reused = connection is not None
        started = time.perf_counter()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(
                    self.parts.hostname, self.parts.port, timeout=self.timeout
                )
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as error:
            if not reused:
                self.record("error", None, repr(error))
                return None
            with self.lock:
                self.result.resent_on_new_connection += 1
            return self.post(None, target, headers, body)
        except (OSError, http.client.HTTPException) as error:
            self.record("error", None, repr(error))
            return None
        self.record(str(response.status), time.perf_counter() - started)
        return None if response.will_close else connection

    def record(self, status: str, latency: float | None, error: str | None = None) -> None:
        with self.lock:
            self.result.sent += 1
            self.result.statuses[status] += 1
            if latency is not None:
                self.result.latencies.append(latency)
            if error:
                self.result.errors.append(error)


def _cut_off(host: str, port: int, target: str, headers: dict[str, str], body: bytes) -> None:
    """Announce the whole body, send half of it, hang up."""
    with socket.create_connection((host, port), timeout=10) as raw:
        fields = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head = (
            f"POST {target} HTTP/1.1\r\nHost: {host}:{port}\r\n{fields}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        raw.sendall(head + body[: len(body) // 2])


@dataclass(frozen=True)
class StoredCount:
    unique_sent: int
    stored: int
    lost: int
    extra_items: int
    deliveries: int


def complete_reports(sends: list[Send]) -> list[Report]:
    """The reports sent whole at least once: exactly what must be stored."""
    return list({send.report.key: send.report for send in sends if not send.cut_off}.values())


def count_stored(
    scan: Callable[..., Any],
    calls_table: str,
    campaigns_table: str,
    run_id: str,
    reports: list[Report],
) -> StoredCount:
    """What the tables hold of this run, by key, against the unique complete reports sent."""
    found: Counter[str] = Counter()
    deliveries = 0
    for table, key_name in ((calls_table, "callId"), (campaigns_table, "campaignId")):
        arguments: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": "begins_with(#k, :run)",
            "ExpressionAttributeNames": {"#k": key_name, "#d": "deliveries"},
            "ExpressionAttributeValues": {":run": {"S": run_id}},
            "ProjectionExpression": "#k, #d",
        }
        while True:
            page = scan(**arguments)
            for item in page.get("Items", []):
                found[item[key_name]["S"]] += 1
                deliveries += int(item["deliveries"]["N"])
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    expected = {report.key for report in reports}
    return StoredCount(
        unique_sent=len(expected),
        stored=sum(1 for key in expected if found[key]),
        lost=sum(1 for key in expected if not found[key]),
        extra_items=sum(count for key, count in found.items() if key not in expected)
        + sum(count - 1 for key, count in found.items() if key in expected and count > 1),
        deliveries=deliveries,
    )


@dataclass(frozen=True)
class EventCount:
    item_events: int
    """Item events (not recording events) about this run's reports."""
    distinct: int
    """Distinct eventIds among them: fewer means a fact was published twice."""


ITEM_EVENT_TYPES = ("Call Finished", "Text Sent", "Text Received", "Campaign Finished")


def count_events(
    take: Callable[[], list[dict[str, Any]]],
    run_id: str,
    expected: int,
    *,
    quiet_seconds: float = 10.0,
) -> EventCount:
    """Takes the watched bus's events until `expected` item events of this run have arrived, or
    none has for `quiet_seconds`."""
    ids: list[str] = []
    last_progress = time.monotonic()
    while len(set(ids)) < expected and time.monotonic() - last_progress < quiet_seconds:
        arrived = [
            event["detail"]["eventId"]
            for event in take()
            if event["detail-type"] in ITEM_EVENT_TYPES
            and str(
                event["detail"].get("callId") or event["detail"].get("campaignId", "")
            ).startswith(run_id)
        ]
        if arrived:
            ids += arrived
            last_progress = time.monotonic()
    return EventCount(item_events=len(ids), distinct=len(set(ids)))
