"""The report domain, free of AWS: reading bodies into reports and mapping reports to items."""

from functions.reports.errors import RejectReason, ReportRejected
from functions.reports.legacy_xml import read_legacy_report
from functions.reports.model import CallReport, CampaignReport, EventType, Report
from functions.reports.xml_text import decode_xml, parse_xml


def read_report(body: bytes | str) -> tuple[Report, str]:
    """The report in `body` and the body as text. Raises ReportRejected with the reason."""
    text = body if isinstance(body, str) else decode_xml(body)
    return read_legacy_report(parse_xml(text)), text


__all__ = [
    "CallReport",
    "CampaignReport",
    "EventType",
    "RejectReason",
    "Report",
    "ReportRejected",
    "read_report",
]
