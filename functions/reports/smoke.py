"""Reports that a smoke test sends (`make smoke`): they prove the receiver answers and stores, not
that CallFire sends, so what counts CallFire's reports leaves them out."""

from __future__ import annotations

from functions.names import SMOKE_CALL_ID_PREFIX, SMOKE_CAMPAIGN_ID
from functions.reports.model import CallReport, Report


def is_smoke_test(report: Report | None) -> bool:
    """A call report of campaign `smoke` whose call id starts with `smoke-`. CallFire's campaign
    ids are numbers, so no report of CallFire's is one."""
    return (
        isinstance(report, CallReport)
        and report.campaign_id == SMOKE_CAMPAIGN_ID
        and report.call_id.startswith(SMOKE_CALL_ID_PREFIX)
    )
