"""`make demo`: start the whole system here, send CallFire's documented sample reports (and one of
them twice), have the stand-in CallFire deliver its published v2 webhook samples (a call and a text
of the same campaign, and a broadcast) to the webhooks it registered, wait for the recording to be
copied, print what was stored (both generations in one campaign listing) and the events published
on the bus, stop.

`make demo ARGS=--running` sends the same reports, and the v2 samples signed with the local
webhook secret, to the `make local` already running (its `.local/endpoints.json`, or
`--endpoints PATH`), where `make status` then shows them."""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from functions.names import (
    CallAttribute,
    CallsTable,
    CampaignAttribute,
    DetailType,
    EventDetail,
    Item,
    LocalEndpoint,
    RecordingEntry,
    RecordingStatus,
    Route,
)
from functions.postback.signature import signature_of
from functions.reports import EventType
from local.bus import take_events
from local.callfire import StandInCallFire
from local.system import ENDPOINTS_FILE, LocalSystem, Ports
from tools.query import (
    CALL_COLUMNS,
    CAMPAIGN_COLUMNS,
    as_table,
    calls_by_campaign,
    calls_by_id,
    campaigns,
    whole_items,
)
from tools.table import render
from tools.target import Target

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "events"
DOCUMENTED = ("call_finished.xml", "text_sent.xml", "text_reply.xml", "campaign_finished.xml")
DOCUMENTED_RECORDING = b"https://www.callfire.com/cloud/1/files/recording/"
CAMPAIGN = "22222"
"""The documented legacy samples' campaign; the v2 call and text are sent as part of it too."""
V2_SAMPLES = (
    ("outbound_call_finished.json", {"campaignId": int(CAMPAIGN)}),
    ("outbound_text_finished.json", {"campaignId": int(CAMPAIGN)}),
    ("call_broadcast_finished.json", {}),
)
"""CallFire's published v2 samples the stand-in delivers, and what the demo changes in each."""
RECORDING_WAIT_SECONDS = 60
EVENTS_WAIT_SECONDS = 30
EXPECTED_EVENTS = sorted(
    (
        DetailType.CALL_FINISHED,
        DetailType.TEXT_SENT,
        DetailType.TEXT_RECEIVED,
        DetailType.CAMPAIGN_FINISHED,
        DetailType.RECORDING_COPIED,
        DetailType.CALL_FINISHED,
        DetailType.TEXT_SENT,
        DetailType.CAMPAIGN_FINISHED,
    )
)
"""One per new item (the legacy reports', then the v2 call's, text's and broadcast's) and one
for the copied recording; none for the report sent twice."""
QUIET = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}
"""The functions' own logs and metrics would drown the demo's story; `make local` shows them."""


class DemoFailed(Exception):
    pass


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers=headers or {"Content-Type": "text/xml"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def samples(callfire_url: str) -> list[tuple[str, bytes]]:
    """The document's samples; the call's recording URL points at the stand-in CallFire."""
    local_recording = f"{callfire_url}/cloud/1/files/recording/demo-1".encode()
    return [
        (name, (SAMPLES / name).read_bytes().replace(DOCUMENTED_RECORDING, local_recording))
        for name in DOCUMENTED
    ]


def deliver_v2_samples(callfire: StandInCallFire, say: Callable[[str], None]) -> None:
    """Each published sample delivered, signed, by the stand-in to the webhooks registered with
    it, as CallFire would."""
    for name, changes in V2_SAMPLES:
        (event,) = json.loads((SAMPLES / "v2" / name).read_text())["events"]
        resource: dict[str, Any] = {**event["resource"], **changes}
        (sent,) = callfire.deliver(
            event["resourceType"], event["eventType"], resource, timestamp=event["timestamp"]
        )
        answer = sent.answer.decode()
        say(f"      {event['resourceType']:<14} {event['eventType']:<9} -> {sent.status} {answer}")
        if sent.status != 200:
            raise DemoFailed(f"the {name} delivery was answered {sent.status}: {answer}")


def run(say: Callable[[str], None]) -> None:
    say("[1/7] starting the system (stand-in CallFire, synth with cdk-nag, moto, gateway)")
    with LocalSystem(
        Ports.free(),
        endpoints_file=None,
        progress=lambda message: say(f"      {message}"),
        extra_environment=QUIET,
    ) as system:
        postback_url = system.endpoints[LocalEndpoint.POSTBACK_URL]
        target = system.target()
        say(f"[2/7] sending CallFire's sample reports to {postback_url.split('?')[0]}")
        subscriptions = [
            f"{subscription.kind} "
            f"({f'campaign {subscription.campaign_id}' if subscription.campaign_id else 'account'})"
            for subscription in system.callfire.subscriptions
        ]
        say(f"      (the stack subscribed with the stand-in CallFire: {', '.join(subscriptions)})")
        bodies = samples(system.callfire.url)
        for name, body in [*bodies, (f"{bodies[0][0]} (again)", bodies[0][1])]:
            status, answer = post(postback_url, body)
            say(f"      POST {name:<28} -> {status} {answer}")
            if status != 200:
                raise DemoFailed(f"{name} was answered {status}: {answer}")
        webhooks = sorted(webhook["name"] for webhook in system.callfire.webhooks.values())
        say(f"[3/7] the stand-in CallFire delivers its v2 samples to {system.webhook_url}")
        say(f"      (the stack registered {len(webhooks)} webhooks with it: {', '.join(webhooks)})")
        deliver_v2_samples(system.callfire, say)
        call_id = "111111"
        if system.consumers:
            say("[4/7] waiting for the recording to be copied into S3")
            _wait_for_recordings(target, call_id, say)
        else:
            say("[4/7] no recordings consumer in this stack; recordings stay PENDING")
        say("[5/7] stored items")
        calls = calls_by_id(target, call_id)
        if {item[CallsTable.SORT_KEY] for item in calls} != set(EventType):
            raise DemoFailed(
                f"expected a call and two texts for {call_id}, found {len(calls)} items"
            )
        say(
            "\nCalls table (callId 111111: the call and its texts)\n"
            + as_table(calls, CALL_COLUMNS)
        )
        listing = whole_items(target, calls_by_campaign(target, CAMPAIGN))
        sources = {item.get("source") for item in listing}
        if sources != {"legacy-postback", "v2-webhook"}:
            raise DemoFailed(f"campaign {CAMPAIGN} should list both generations, not {sources}")
        say(
            f"\nmake query ARGS='calls --campaign {CAMPAIGN} --full' (both generations, newest "
            "first)\n" + as_table(listing, CALL_COLUMNS)
        )
        say("\nCampaigns table\n" + as_table(campaigns(target), CAMPAIGN_COLUMNS) + "\n")
        bus = system.endpoints[LocalEndpoint.EVENT_BUS]
        say(f"[6/7] events on the bus {bus} (seen through the local-only events queue)")
        events = _wait_for_events(system)
        say("\n" + events_table(events) + "\n")
        say("[7/7] stopping")


def _wait_for_recordings(target: Target, call_id: str, say: Callable[[str], None]) -> None:
    deadline = time.monotonic() + RECORDING_WAIT_SECONDS
    while time.monotonic() < deadline:
        (call,) = [
            item
            for item in calls_by_id(target, call_id)
            if item[CallsTable.SORT_KEY] == EventType.CALL
        ]
        recordings = call.get(CallAttribute.RECORDINGS, [])
        statuses = [recording[RecordingEntry.STATUS] for recording in recordings]
        if statuses and RecordingStatus.PENDING not in statuses:
            if RecordingStatus.FAILED in statuses:
                raise DemoFailed(f"a recording failed to copy: {recordings}")
            say(f"      copied: {[entry.get(RecordingEntry.S3_KEY) for entry in recordings]}")
            return
        time.sleep(0.5)
    raise DemoFailed(f"the recording was not copied within {RECORDING_WAIT_SECONDS} s")


def _wait_for_events(system: LocalSystem) -> list[dict[str, Any]]:
    """The events the reports produced: as many as expected, then a moment more to make sure
    that nothing else (a duplicate) follows."""
    sqs = system.client("sqs")
    queue = system.endpoints[LocalEndpoint.EVENTS_QUEUE]
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + EVENTS_WAIT_SECONDS
    while len(events) < len(EXPECTED_EVENTS) and time.monotonic() < deadline:
        events += take_events(sqs, queue, wait_seconds=1)
    events += take_events(sqs, queue, wait_seconds=1)
    published = sorted(str(event["detail-type"]) for event in events)
    if published != EXPECTED_EVENTS:
        raise DemoFailed(f"expected the events {EXPECTED_EVENTS}, the bus carried {published}")
    return events


def events_table(events: list[dict[str, Any]]) -> str:
    rows = []
    for event in sorted(events, key=lambda event: str(event["detail-type"])):
        detail = event["detail"]
        key = detail.get(CallAttribute.CALL_ID) or detail.get(CampaignAttribute.CAMPAIGN_ID)
        what = detail.get(CallAttribute.EVENT_TYPE) or detail.get(EventDetail.TABLE)
        extra = detail.get(RecordingEntry.S3_KEY) or detail.get(CallAttribute.DISPOSITION) or ""
        rows.append(
            [
                event["detail-type"],
                f"{key} ({what})",
                detail.get(Item.VERSION, ""),
                extra,
                detail.get(EventDetail.EVENT_ID),
            ]
        )
    return render(["detail-type", "item", "version", "disposition / s3Key", "eventId"], rows)


def send_to_running(endpoints_file: Path, say: Callable[[str], None]) -> None:
    """The samples (one twice) to a running local system, as `run` sends them to its own; and
    the v2 samples, signed as CallFire signs them, to its `/webhooks`."""
    try:
        endpoints = json.loads(endpoints_file.read_text())
    except FileNotFoundError:
        raise DemoFailed(f"{endpoints_file} does not exist: start `make local` first") from None
    postback_url = endpoints[LocalEndpoint.POSTBACK_URL]
    bodies = samples(endpoints[LocalEndpoint.CALLFIRE_URL])
    say(f"sending CallFire's sample reports to {postback_url.split('?')[0]}")
    for name, body in [*bodies, (f"{bodies[0][0]} (again)", bodies[0][1])]:
        status, answer = post(postback_url, body)
        say(f"  POST {name:<28} -> {status} {answer}")
        if status != 200:
            raise DemoFailed(f"{name} was answered {status}: {answer}")
    webhook_url = endpoints.get(LocalEndpoint.WEBHOOK_URL)
    secret = endpoints.get(LocalEndpoint.WEBHOOK_SECRET)
    if not (webhook_url and secret):
        return
    say(f"sending CallFire's v2 samples, signed, to {webhook_url}")
    for name, changes in V2_SAMPLES:
        (event,) = json.loads((SAMPLES / "v2" / name).read_text())["events"]
        event["resource"] = {**event["resource"], **changes}
        body = json.dumps({"timestamp": event["timestamp"], "events": [event]}).encode()
        headers = {
            "Content-Type": "application/json",
            Route.SIGNATURE_HEADER: signature_of(secret, body),
        }
        status, answer = post(webhook_url, body, headers)
        say(f"  POST {name:<28} -> {status} {answer}")
        if status != 200:
            raise DemoFailed(f"{name} was answered {status}: {answer}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__)
    parser.add_argument(
        "--running",
        action="store_true",
        help="send the samples to the running `make local` instead of starting a system",
    )
    parser.add_argument("--endpoints", type=Path, default=ENDPOINTS_FILE, help="with --running")
    options = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, flush=True)

    try:
        if options.running:
            send_to_running(options.endpoints, say)
        else:
            run(say)
    except (DemoFailed, OSError) as error:
        print(f"\ndemo failed: {error}", file=sys.stderr)
        return 1
    if options.running:
        print("Sent: `make status` shows them.")
        return 0
    print(
        "Demo finished: every report stored once, the duplicate counted in `deliveries`, "
        "v2 webhook events beside the legacy postbacks, one event per new fact on the bus."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
