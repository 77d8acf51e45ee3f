"""What a million reports cost, computed from the figures measured in the same run.

Prices: AWS list prices for us-east-1 as published in 2026 (on-demand, no free tier, no savings
plans). Each assumption is named where it is used and printed with the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PRICES = {
    "api_gateway_http_per_million": 1.00,
    "lambda_arm_gb_second": 0.0000133334,
    "lambda_per_million_requests": 0.20,
    "dynamodb_on_demand_per_million_wru": 0.625,
    "dynamodb_on_demand_per_million_rru": 0.125,
    "sqs_per_million_requests": 0.40,
    "s3_put_per_thousand": 0.005,
    "cloudwatch_logs_per_gb": 0.50,
}

MIX = {"call_finished": 0.55, "text_sent": 0.20, "text_reply": 0.20, "campaign_finished": 0.05}
"""Assumed share of each kind of report (the load generator sends the same mix)."""

ASSUMPTIONS = {
    "share of calls with one recording (CallFire records only when a campaign asks)": 0.2,
    "AWS latency in the postback function (ms): token cached, one PutItem": 8.0,
    "AWS latency to queue a recording (ms): one SendMessageBatch": 10.0,
    "recordings function: ms per recording (download + upload, 500 kB WAV)": 250.0,
    "recordings function memory (MB)": 512.0,
    "recording messages per recordings invocation": 1.0,
    "Lambda platform log lines per invocation (START/END/REPORT), bytes": 330.0,
    "API Gateway access log line, bytes": 380.0,
}


@dataclass(frozen=True)
class Measured:
    handler_us: dict[str, float]
    """Warm handler time per report, in-memory clients (the warm-request row)."""
    item_bytes: dict[str, int]
    index_entries: dict[str, int]
    index_bytes: dict[str, int]
    log_bytes: dict[str, int]
    memory_mb: int


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def per_million(measured: Measured) -> dict[str, float]:
    """Dollars per million reports, by line item."""
    a = ASSUMPTIONS
    recordings = (
        MIX["call_finished"]
        * a["share of calls with one recording (CallFire records only when a campaign asks)"]
    )
    mean = lambda values: sum(MIX[name] * value for name, value in values.items())  # noqa: E731

    duration_ms = {
        name: math.ceil(
            measured.handler_us[name] / 1000
            + a["AWS latency in the postback function (ms): token cached, one PutItem"]
            + (
                a["AWS latency to queue a recording (ms): one SendMessageBatch"]
                if name == "call_finished"
                else 0
            )
        )
        for name in MIX
    }
    gb_seconds = mean(
        {name: ms / 1000 * measured.memory_mb / 1024 for name, ms in duration_ms.items()}
    )
    write_units_per_report = mean(
        {
            name: write_units(measured.item_bytes[name])
            + measured.index_entries[name] * write_units(measured.index_bytes[name])
            for name in MIX
        }
    )
    log_bytes = (
        mean(measured.log_bytes)
        + a["Lambda platform log lines per invocation (START/END/REPORT), bytes"]
    )
    recording_seconds = (
        a["recordings function: ms per recording (download + upload, 500 kB WAV)"] / 1000
    )
    recording_gb_seconds = recording_seconds * a["recordings function memory (MB)"] / 1024
    recording_invocations = recordings / a["recording messages per recordings invocation"]
    p = PRICES
    return {
        "API Gateway (HTTP API requests)": p["api_gateway_http_per_million"],
        "Lambda postback requests": p["lambda_per_million_requests"],
        "Lambda postback duration": gb_seconds * 1e6 * p["lambda_arm_gb_second"],
        "DynamoDB writes (item + index entries)": write_units_per_report
        * p["dynamodb_on_demand_per_million_wru"],
        "SQS (send, receive, delete per recording)": recordings * 3 * p["sqs_per_million_requests"],
        "Lambda recordings (requests + duration)": recording_invocations
        * p["lambda_per_million_requests"]
        + recordings * 1e6 * recording_gb_seconds * p["lambda_arm_gb_second"],
        "S3 (recording PUT)": recordings * 1e3 * p["s3_put_per_thousand"],
        "DynamoDB (recording: consistent read, then update)": recordings
        * (
            p["dynamodb_on_demand_per_million_rru"]
            + write_units(measured.item_bytes["call_finished"])
            * p["dynamodb_on_demand_per_million_wru"]
        ),
        "CloudWatch Logs (function)": log_bytes * 1e6 / 1e9 * p["cloudwatch_logs_per_gb"],
        "CloudWatch Logs (API access log)": a["API Gateway access log line, bytes"]
        * 1e6
        / 1e9
        * p["cloudwatch_logs_per_gb"],
    }


__all__ = ["ASSUMPTIONS", "MIX", "PRICES", "Measured", "per_million", "write_units"]
