"""Reports that a smoke test sends (`make smoke`): they prove the receiver answers and stores, not
that CallFire sends, so what counts CallFire's reports leaves them out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from functions.names import (
    SMOKE_CALL_ID_PREFIX,
    SMOKE_CAMPAIGN_ID,
    SMOKE_WEBHOOK_ID,
    CallAttribute,
    Item,
    Source,
    WebhookAttribute,
)
from functions.reports.model import CallReport, Report


def is_smoke_test(report: Report | None) -> bool:
    """A call report of campaign `smoke` whose call id starts with `smoke-`. CallFire's campaign
    ids are numbers, so no report of CallFire's is one."""
    return (
        isinstance(report, CallReport)
        and report.campaign_id == SMOKE_CAMPAIGN_ID
        and report.call_id.startswith(SMOKE_CALL_ID_PREFIX)
    )


def is_smoke_delivery(webhook_name: str | None, reports: Sequence[object]) -> bool:
    """A v2 webhook delivery a smoke test sent: its webhook is named `smoke` and each of its events
    is a call labelled `smoke`. v2 ids are numbers, so the delivery is marked by these instead;
    the stack's own webhooks are named `<stack name>-<resource>`, so none of CallFire's is one."""
    return (
        webhook_name == SMOKE_CAMPAIGN_ID
        and bool(reports)
        and all(
            isinstance(report, CallReport) and SMOKE_CAMPAIGN_ID in (report.tags or ())
            for report in reports
        )
    )


def is_smoke_item(item: Mapping[str, Any]) -> bool:
    """The stored item of a smoke test's report: a legacy one (call id `smoke-...`, campaign
    `smoke`) or a v2 one (webhook id 0, which CallFire never gives, and labelled `smoke`)."""
    if item.get(CallAttribute.CAMPAIGN_ID) == SMOKE_CAMPAIGN_ID and str(
        item.get(CallAttribute.CALL_ID, "")
    ).startswith(SMOKE_CALL_ID_PREFIX):
        return True
    tags = item.get(CallAttribute.TAGS)
    return (
        item.get(Item.SOURCE) == Source.V2_WEBHOOK
        and item.get(WebhookAttribute.WEBHOOK_ID) == SMOKE_WEBHOOK_ID
        and isinstance(tags, list | tuple)
        and SMOKE_CAMPAIGN_ID in tags
    )
