"""The report domain, free of AWS: reading bodies into reports and mapping reports to items."""

from functions.reports.errors import RejectReason, ReportRejected
from functions.reports.legacy_xml import read_legacy_report
from functions.reports.model import CallReport, CampaignReport, EventType, Report
from functions.reports.xml_text import check_declared_encoding, decode_xml, parse_xml


def read_report(body: bytes | str) -> tuple[Report, str]:
    """The report in `body` and the body as text. Raises ReportRejected with the reason.

    Text (what API Gateway hands over for text media types) is read as it is; bytes are decoded
    as their byte-order mark or XML declaration says. Either way, a declared encoding that is
    not known is refused, as the XML specification requires."""
    text = check_declared_encoding(body) if isinstance(body, str) else decode_xml(body)
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
