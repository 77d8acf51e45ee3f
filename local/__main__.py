"""`make local`: the whole system on this machine, in the foreground, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from functions.names import DEFAULT_STAGE, LocalEndpoint
from local.logs import Invocation, readable_line
from local.system import ENDPOINTS_FILE, LocalSystem, Ports, free_port

METRICS_OFF = {"POWERTOOLS_METRICS_DISABLED": "true"}
"""With the readable log: the functions' EMF lines are for CloudWatch, not for a person."""


def main(argv: list[str] | None = None) -> int:
    defaults = Ports()
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    for name, default in (
        ("moto", defaults.moto),
        ("gateway", defaults.gateway),
        ("callfire", defaults.callfire),
    ):
        parser.add_argument(
            f"--{name}-port", type=int, default=default, help=f"default {default}; 0: any free port"
        )
    parser.add_argument("--endpoints-file", type=Path, default=ENDPOINTS_FILE)
    parser.add_argument(
        "--stage",
        default=DEFAULT_STAGE,
        help=f"the stack's stage context (default {DEFAULT_STAGE})",
    )
    parser.add_argument(
        "--log",
        choices=("text", "json"),
        default="text",
        help="text (default): one line per request or batch (time, route or function, status, "
        "kind, ids, ms); json: the functions' own Powertools JSON lines and EMF metrics",
    )
    options = parser.parse_args(argv)
    ports = Ports(
        *(
            port or free_port()
            for port in (options.moto_port, options.gateway_port, options.callfire_port)
        )
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    def progress(message: str) -> None:
        print(f"  ... {message}", flush=True)

    print(f"Starting the CallFire receiver (stage {options.stage}) on this machine.", flush=True)
    try:
        system = LocalSystem(
            ports,
            endpoints_file=options.endpoints_file,
            progress=progress,
            stage=options.stage,
            **_log_options(options.log),
        ).start()
    except KeyboardInterrupt:
        print("\nStopped before it was up.", flush=True)
        return 130
    except OSError as error:
        print(
            f"Could not start: {error}. Is `make local` already running? Choose other ports: "
            "ARGS='--moto-port ... --gateway-port ... --callfire-port ...'.",
            file=sys.stderr,
        )
        return 1
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(instructions(system.endpoints, options.endpoints_file), flush=True)
    if options.log == "text":
        print(
            "Log: one line per request or batch (time, route or function, status, kind, ids, ms);"
            " ARGS='--log json' shows the functions' own lines.\n",
            flush=True,
        )
    while not stopping.wait(0.5):
        pass
    print("\nStopping...", flush=True)
    system.stop()
    print("Stopped.", flush=True)
    return 0


def _log_options(log: str) -> dict[str, Any]:
    if log == "json":
        return {}
    return {"log": _print_line, "extra_environment": METRICS_OFF}


def _print_line(invocation: Invocation) -> None:
    print(readable_line(invocation), flush=True)


def instructions(endpoints: dict[str, str], endpoints_file: Path) -> str:
    endpoint = endpoints[LocalEndpoint.ENDPOINT_URL]
    region = endpoints[LocalEndpoint.REGION]
    calls = endpoints[LocalEndpoint.CALLS_TABLE]
    postback_url = endpoints[LocalEndpoint.POSTBACK_URL]
    tool_args = (
        ""
        if endpoints_file.resolve() == ENDPOINTS_FILE
        else f' ARGS="--endpoints {endpoints_file}"'
    )
    webhook_url = endpoints[LocalEndpoint.WEBHOOK_URL]
    return f"""
Running. Ctrl-C stops everything.

  postback URL       {postback_url}
  webhook URL        {webhook_url}   (v2 webhooks, registered with the stand-in)
  moto endpoint      {endpoint}   (region {region}, any credentials)
  stand-in CallFire  {endpoints[LocalEndpoint.CALLFIRE_URL]}
  calls table        {calls}
  campaigns table    {endpoints[LocalEndpoint.CAMPAIGNS_TABLE]}
  bucket             {endpoints[LocalEndpoint.BUCKET]}
  event bus          {endpoints[LocalEndpoint.EVENT_BUS]}
  events queue       {endpoints[LocalEndpoint.EVENTS_QUEUE]}   (every event on the bus)
  (all of this is in {endpoints_file} while it runs)

Send a report:
  curl -s -X POST --data-binary @tests/events/call_finished.xml '{postback_url}'

Prove it works, and see its health (in another terminal):
  make smoke{tool_args}
  make status{tool_args}

Send a v2 webhook delivery, signed as CallFire signs it (the secret is in {endpoints_file}):
  BODY=tests/events/v2/outbound_call_finished.json
  SIG=$(openssl dgst -sha1 -hmac '{endpoints[LocalEndpoint.WEBHOOK_SECRET]}' -binary $BODY | base64)
  curl -s -X POST -H 'Content-Type: application/json' -H "X-CallFire-Signature: $SIG" \\
      --data-binary @$BODY '{webhook_url}'

Query it with this project's tool:
  .venv/bin/python -m tools.query calls --campaign 22222
  .venv/bin/python -m tools.query calls --id 111111 --json

or with the AWS CLI:
  aws --endpoint-url {endpoint} --region {region} dynamodb query --table-name {calls} \\
      --index-name byCampaign --key-condition-expression 'campaignId = :c' \\
      --expression-attribute-values '{{":c": {{"S": "22222"}}}}' --no-scan-index-forward

or with boto3:
  boto3.client("dynamodb", endpoint_url="{endpoint}", region_name="{region}",
               aws_access_key_id="local", aws_secret_access_key="local")
"""


if __name__ == "__main__":
    sys.exit(main())
