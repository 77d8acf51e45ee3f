"""Reader for CallFire's legacy report postbacks (`call-finished`, `campaign-finished`).

Element names are matched without regard to case, hyphens or underscores (`smsreceived`,
`smsReceived` and `sms-received` are one name): CallFire's own document spells them both ways.
Elements nested inside a known element where they do not belong (the document's text samples close
`notes`, `extra-data`, `stored-data` and `recordings` around each other) are read as if they stood
beside it. Whatever is not recognised goes to `extra`, so nothing the sender wrote is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from functions.names import CampaignAttribute
from functions.reports.errors import RejectReason, ReportRejected
from functions.reports.model import CallReport, CampaignReport, EventType, Report
from functions.reports.values import iso_timestamp, money, number, whole_number
from functions.reports.xml_text import XmlElement

MAX_IDENTIFIER_CHARS = 512
"""Longer identifiers cannot be DynamoDB keys in every encoding; such a body is refused."""

MAX_EXTRA_DEPTH = 10
"""Unknown elements nested deeper than this are not copied into `extra` (DynamoDB allows 32
levels); the whole body stays in `raw`."""

_CALL_ROOT = "callfinished"
_CAMPAIGN_ROOT = "campaignfinished"


@dataclass(frozen=True, slots=True)
class _Text:
    """An element whose text is one report field, converted when `convert` is given."""

    field: str
    convert: Callable[[str], Any] | None = None


@dataclass(frozen=True, slots=True)
class _List:
    """A container of `item` elements, each one's text an entry of the report field `field`."""

    item: str
    field: str


@dataclass(frozen=True, slots=True)
class _StoredData:
    """A container of `item` elements, each with a `name` attribute: a map of name to text."""

    item: str


_CALL_SCHEMA: dict[str, _Text | _List | _StoredData] = {
    "callid": _Text("call_id"),
    "campaignid": _Text("campaign_id"),
    "phonenumber": _Text("phone_number"),
    "dnis": _Text("dnis"),
    "disposition": _Text("disposition"),
    "notes": _Text("notes"),
    "extradata": _Text("extra_data"),
    "agentid": _Text("agent_id"),
    "agentresponse": _Text("agent_response"),
    "smssent": _Text("sms_sent"),
    "smsreceived": _Text("sms_received"),
    "replyfromcampaign": _Text("reply_from_campaign"),
    "duration": _Text("duration_seconds", number),
    "callstart": _Text("call_start", iso_timestamp),
    "responsetime": _Text("response_time", iso_timestamp),
    "tags": _List(item="tag", field="tags"),
    "recordings": _List(item="file", field="recording_urls"),
    "storeddata": _StoredData(item="var"),
}
"""How each element of a call report is read, by its normalised name."""

_CAMPAIGN_TEXT: dict[str, str] = {"id": "campaign_id", "name": "name", "status": "status"}
_CAMPAIGN_STATS = "campaignstats"
_STATS: dict[str, str] = {
    "total": CampaignAttribute.TOTAL,
    "dialed": CampaignAttribute.DIALED,
    "live": CampaignAttribute.LIVE,
    "machine": CampaignAttribute.MACHINE,
    "noanswer": CampaignAttribute.NO_ANSWER,
    "dnc": CampaignAttribute.DNC,
    "busy": CampaignAttribute.BUSY,
    "transfer": CampaignAttribute.TRANSFER,
    "error": CampaignAttribute.ERROR,
    "misc": CampaignAttribute.MISC,
}
"""A statistic's normalised element name and its item attribute."""


def read_legacy_report(root: XmlElement) -> Report:
    name = _normal(root.tag)
    if name == _CALL_ROOT:
        return _read_call(root)
    if name == _CAMPAIGN_ROOT:
        return _read_campaign(root)
    raise ReportRejected(
        RejectReason.UNKNOWN_REPORT,
        f"<{_shown(root.tag)}> is not a known report; "
        "expected <call-finished> or <campaign-finished>",
    )


def _read_call(root: XmlElement) -> CallReport:
    fields = _CallFields()
    fields.visit_children(root, depth=0)
    values = fields.values
    call_id = _required_identifier(values.pop("call_id", None), "callid")
    _check_identifier(values.get("campaign_id"), "campaignid")
    _check_identifier(values.get("phone_number"), "phonenumber")
    return CallReport(
        call_id=call_id,
        event_type=_event_type(values),
        tags=tuple(fields.lists["tags"]),
        stored_data=fields.stored_data,
        recording_urls=tuple(fields.lists["recording_urls"]),
        extra=fields.extra.values,
        **values,
    )


def _event_type(values: dict[str, Any]) -> EventType:
    if "sms_received" in values or "reply_from_campaign" in values:
        return EventType.TEXT_REPLY
    if "sms_sent" in values:
        return EventType.TEXT_SENT
    return EventType.CALL


class _CallFields:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.lists: dict[str, list[str]] = {"tags": [], "recording_urls": []}
        self.stored_data: dict[str, str] = {}
        self.extra = _Extra()

    def visit_children(self, parent: XmlElement, depth: int) -> None:
        for child in parent:
            self.visit(child, depth + 1)

    def visit(self, element: XmlElement, depth: int) -> None:
        if depth > MAX_EXTRA_DEPTH:
            self.extra.add(element.tag, _truncated())
            return
        tag = element.tag
        rule = _CALL_SCHEMA.get(_NORMAL_NAMES.get(tag) or _normal(tag))
        if rule is None:
            self.extra.add(tag, _plain(element, depth))
        elif type(rule) is _Text:
            self._read_text(element, rule, depth)
        elif type(rule) is _List:
            self._read_list(element, rule, depth)
        else:
            self._read_stored_data(element, rule, depth)

    def _read_text(self, element: XmlElement, rule: _Text, depth: int) -> None:
        text = _own_text(element)
        if text:
            value = rule.convert(text) if rule.convert else text
            known = self.values.get(rule.field)
            if known is None and value is not None:
                self.values[rule.field] = value
            elif value is None or known != value:
                self.extra.add(element.tag, text)
        if len(element):
            self.visit_children(element, depth)

    def _read_list(self, container: XmlElement, rule: _List, depth: int) -> None:
        self.extra.add_text(container.tag, _own_text(container))
        entries = self.lists[rule.field]
        for child in container:
            if _normal(child.tag) == rule.item and not len(child):
                text = _own_text(child)
                if text:
                    entries.append(text)
            else:
                self.visit(child, depth + 1)

    def _read_stored_data(self, container: XmlElement, rule: _StoredData, depth: int) -> None:
        self.extra.add_text(container.tag, _own_text(container))
        for child in container:
            variable = child.attrib.get("name", "").strip()
            if _normal(child.tag) != rule.item or len(child):
                self.visit(child, depth + 1)
            elif not variable or variable in self.stored_data:
                self.extra.add(child.tag, _plain(child, depth + 1))
            else:
                self.stored_data[variable] = _own_text(child)


def _read_campaign(root: XmlElement) -> CampaignReport:
    extra = _Extra()
    campaign = next((child for child in root if _normal(child.tag) == "campaign"), root)
    if campaign is not root:
        extra.add_text(root.tag, _own_text(root))
        for child in root:
            if child is not campaign:
                extra.add(child.tag, _plain(child, 1))
    values: dict[str, Any] = {}
    stats: dict[str, int] = {}
    for child in campaign:
        name = _normal(child.tag)
        text = _own_text(child)
        if name in _CAMPAIGN_TEXT and not len(child) and _CAMPAIGN_TEXT[name] not in values:
            if text:
                values[_CAMPAIGN_TEXT[name]] = text
        elif name == "cost" and not len(child) and "cost_raw" not in values:
            values.update(_cost(text))
        elif name == _CAMPAIGN_STATS:
            _read_stats(child, stats, extra)
        else:
            extra.add(child.tag, _plain(child, 1))
    campaign_id = _required_identifier(values.pop("campaign_id", None), "campaign id")
    return CampaignReport(campaign_id=campaign_id, stats=stats, extra=extra.values, **values)


def _read_stats(container: XmlElement, stats: dict[str, int], extra: _Extra) -> None:
    unknown = _Extra()
    unknown.add_text("#text", _own_text(container))
    for child in container:
        attribute = _STATS.get(_normal(child.tag))
        value = whole_number(_own_text(child)) if not len(child) else None
        if attribute is None or value is None or attribute in stats:
            unknown.add(child.tag, _plain(child, 2))
        else:
            stats[attribute] = value
    if unknown.values:
        extra.add(container.tag, unknown.values)


def _cost(text: str) -> dict[str, Any]:
    if not text:
        return {}
    parsed = money(text)
    values: dict[str, Any] = {"cost_raw": text}
    if parsed is not None:
        amount, currency = parsed
        values["cost"] = amount
        if currency:
            values["currency"] = currency
    return values


def _required_identifier(value: str | None, element: str) -> str:
    if value is None:
        raise ReportRejected(RejectReason.UNKNOWN_REPORT, f"the report has no {element}")
    _check_identifier(value, element)
    return value


def _check_identifier(value: str | None, element: str) -> None:
    if value is not None and len(value) > MAX_IDENTIFIER_CHARS:
        raise ReportRejected(
            RejectReason.UNKNOWN_REPORT,
            f"the {element} is longer than {MAX_IDENTIFIER_CHARS} characters",
        )


class _Extra:
    """Unrecognised elements by their tag as sent; a tag seen twice holds a list of its values
    (values themselves are never lists)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, key: str, value: Any) -> None:
        if key not in self.values:
            self.values[key] = value
        elif isinstance(self.values[key], list):
            self.values[key].append(value)
        else:
            self.values[key] = [self.values[key], value]

    def add_text(self, key: str, text: str) -> None:
        if text:
            self.add(key, text)


def _plain(element: XmlElement, depth: int) -> Any:
    """An unknown element as data: its text, or a map of `@attribute`, `#text` and children."""
    if depth > MAX_EXTRA_DEPTH:
        return _truncated()
    text = _own_text(element)
    if not len(element) and not element.attrib:
        return text
    value = _Extra()
    for attribute, attribute_value in element.attrib.items():
        value.add("@" + attribute, attribute_value)
    value.add_text("#text", text)
    for child in element:
        value.add(child.tag, _plain(child, depth + 1))
    return value.values


_TRUNCATED = f"deeper than {MAX_EXTRA_DEPTH} levels; see raw"


def _truncated() -> dict[str, str]:
    return {"#truncated": _TRUNCATED}


def _own_text(element: XmlElement) -> str:
    """The element's text outside its children, trimmed."""
    if not len(element):
        text = element.text
        return text.strip() if text else ""
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element)
    return "".join(parts).strip()


_NORMAL_NAMES: dict[str, str] = {}
_NORMAL_NAMES_KEPT = 4096


def _normal(tag: str) -> str:
    """`tag` without case, hyphens or underscores (namespaced tags stay as they are)."""
    name = _NORMAL_NAMES.get(tag)
    if name is None:
        name = tag if tag.startswith("{") else tag.lower().replace("-", "").replace("_", "")
        if len(_NORMAL_NAMES) < _NORMAL_NAMES_KEPT:
            _NORMAL_NAMES[tag] = name
    return name


def _shown(tag: str) -> str:
    printable = "".join(ch if ch.isprintable() else "?" for ch in tag)
    return printable if len(printable) <= 64 else printable[:61] + "..."
