"""CallFire's answer to a subscription, read tolerantly: `reportresponse` or `reportResponse`,
`success` or `successful`, and the document's own sample, whose XML declaration lacks its closing
`?` (a strict parser refuses it). Parsed with defusedxml only: no DTD, entity or external reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from functions.reports.errors import ReportRejected
from functions.reports.xml_text import XmlElement, decode_xml, parse_xml

_ROOT = "reportresponse"
_FLAGS = ("success", "successful")
_DESCRIPTION = "description"
_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]{0,200}>")
"""An XML declaration, ended by `?>` or, as in CallFire's document, by a bare `>`."""


class MalformedAnswer(ValueError):
    """The answer is not a report response. The message says why; it quotes no more of the body
    than an element name or a flag."""


@dataclass(frozen=True, slots=True)
class ReportResponse:
    success: bool
    description: str | None


def read_report_response(body: bytes) -> ReportResponse:
    """The flag and description of CallFire's answer. Raises MalformedAnswer."""
    try:
        text = _DECLARATION.sub("", decode_xml(body), count=1)
        root = parse_xml(text)
    except ReportRejected as error:
        raise MalformedAnswer(error.detail) from None
    if _local_name(root.tag) != _ROOT:
        raise MalformedAnswer(f"its root element is {_local_name(root.tag)[:40]!r}, not {_ROOT!r}")
    children = {_local_name(child.tag): _text(child) for child in root}
    flag = next((children[name] for name in _FLAGS if name in children), None)
    if flag is None:
        raise MalformedAnswer("it has neither a <success> nor a <successful> element")
    if flag.lower() not in {"true", "false"}:
        raise MalformedAnswer(f"its success flag is {flag[:20]!r}, not true or false")
    return ReportResponse(flag.lower() == "true", children.get(_DESCRIPTION) or None)


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2].lower()


def _text(element: XmlElement) -> str:
    return (element.text or "").strip()
