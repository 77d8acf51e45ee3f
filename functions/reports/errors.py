"""Why a body is refused. The HTTP layer maps each reason to its status code."""

from enum import StrEnum


class RejectReason(StrEnum):
    TOO_LARGE = "body_too_large"
    NOT_WELL_FORMED = "not_well_formed"
    FORBIDDEN_XML = "forbidden_xml"
    UNKNOWN_REPORT = "unknown_report"
    NO_EVENTS = "no_events"
    """A webhook body that is JSON but not a delivery: no `events` array."""


class ReportRejected(Exception):
    """The body cannot become a report. `detail` is safe to show the sender and to log."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
