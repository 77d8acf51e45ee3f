"""Reader for CallFire's v2 webhook deliveries: a JSON envelope holding several events.

    {"timestamp": ms, "webhookId": N, "webhookName": S, "resourceType": S,
     "events": [{"timestamp": ms, "webhookId": N, "resourceType": S, "eventType": S,
                 "resource": {...}}, ...]}

The body must be strict JSON (RFC 8259) in UTF-8: duplicate names, `NaN`/`Infinity`, nesting
deeper than MAX_JSON_DEPTH levels and trailing data are refused, so that no two readers can see
different data in one body. Numbers are read exactly: integers as integers at any length (ids
above 2^53 survive), fractions as Decimal; none goes through a float. Each event keeps its own
text exactly as received (`raw`).

Each event becomes a CallReport (`OutboundCall`/`InboundCall`/`OutboundText`/`InboundText` with
`Finished`), a CampaignReport (`CallBroadcast`/`TextBroadcast`/`CccCampaign` with `Started`,
`Stopped` or `Finished`), an OtherEvent (any other resource type or event: kept as it is), or a
RefusedEvent (not an object, no usable id). A field of the wrong type is not mapped; it goes to
`extra` under its name, like every field the mapping does not know, so nothing is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from json.decoder import scanstring
from typing import Any

from functions.names import DEFAULT_CALLFIRE_V2_BASE_URL, CallfireV2
from functions.reports.errors import RejectReason, ReportRejected
from functions.reports.model import (
    CallReport,
    CampaignReport,
    EventType,
    RecordingDetail,
    Report,
    WebhookOrigin,
)
from functions.reports.values import iso_from_epoch_ms, storable_number

MAX_EVENTS = 1000
"""More events than this in one delivery are refused (413): each is one write, and the answer must
come within API Gateway's 30 seconds. CallFire's own deliveries hold one event each."""
MAX_JSON_DEPTH = 64
"""Deeper bodies are refused; CallFire's resources nest five levels."""
MAX_VALUE_DEPTH = 10
"""Within an item, values deeper than this become a truncation note (DynamoDB allows 32 levels);
the whole event stays in `raw`."""
MAX_IDENTIFIER_CHARS = 512
V2_RECORDINGS_URL = DEFAULT_CALLFIRE_V2_BASE_URL + CallfireV2.RECORDINGS_PATH

CALL_EVENTS: Mapping[tuple[str, str], EventType] = {
    (CallfireV2.OUTBOUND_CALL, CallfireV2.FINISHED): EventType.CALL,
    (CallfireV2.INBOUND_CALL, CallfireV2.FINISHED): EventType.CALL,
    (CallfireV2.OUTBOUND_TEXT, CallfireV2.FINISHED): EventType.TEXT_SENT,
    (CallfireV2.INBOUND_TEXT, CallfireV2.FINISHED): EventType.TEXT_REPLY,
}
INBOUND_RESOURCES = frozenset({CallfireV2.INBOUND_CALL, CallfireV2.INBOUND_TEXT})
CAMPAIGN_RESOURCES = frozenset(
    {CallfireV2.CALL_BROADCAST, CallfireV2.TEXT_BROADCAST, CallfireV2.CCC_CAMPAIGN}
)
CAMPAIGN_EVENTS = frozenset({CallfireV2.STARTED, CallfireV2.STOPPED, CallfireV2.FINISHED})
_TEXTS = frozenset({CallfireV2.OUTBOUND_TEXT, CallfireV2.INBOUND_TEXT})
_TRUNCATED = {"#truncated": f"deeper than {MAX_VALUE_DEPTH} levels; see raw"}


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """An event of a resource type (or an event) the tables do not take: kept as it is."""

    resource_type: str
    event_type: str | None
    webhook_id: str | None
    timestamp_ms: int | None


@dataclass(frozen=True, slots=True)
class RefusedEvent:
    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    index: int
    """The event's position in the delivery's `events`."""
    raw: str
    """The event's JSON text, exactly as it stood in the body."""
    content: Report | OtherEvent | RefusedEvent


@dataclass(frozen=True, slots=True)
class Delivery:
    webhook_id: str | None
    webhook_name: str | None
    resource_type: str | None
    timestamp_ms: int | None
    events: tuple[DeliveryEvent, ...]


def decode_json(body: bytes | str) -> str:
    """The body as text: UTF-8 (a leading byte-order mark is dropped), as RFC 8259 requires."""
    if isinstance(body, str):
        return body.removeprefix("\ufeff")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReportRejected(
            RejectReason.NOT_WELL_FORMED,
            f"the body is not valid UTF-8 (byte {error.start} cannot be decoded)",
        ) from None


def read_delivery(text: str) -> Delivery:
    """The delivery in `text`. Raises ReportRejected for the whole body: not JSON (400), no
    `events` array (400), more than MAX_EVENTS events (413), no events at all (422)."""
    check_depth(text)
    envelope, values, spans = _envelope(text)
    if len(values) > MAX_EVENTS:
        raise ReportRejected(
            RejectReason.TOO_LARGE,
            f"the delivery holds {len(values)} events; at most {MAX_EVENTS} are taken at once",
        )
    if not values:
        raise ReportRejected(RejectReason.UNKNOWN_REPORT, "the delivery holds no events")
    context = _Envelope(
        webhook_id=_identifier(envelope.get("webhookId")),
        resource_type=_text(envelope.get("resourceType")),
        timestamp_ms=_integer(envelope.get("timestamp")),
    )
    events = tuple(
        DeliveryEvent(index, text[start:end], _event(value, context))
        for index, (value, (start, end)) in enumerate(zip(values, spans, strict=True))
    )
    return Delivery(
        webhook_id=context.webhook_id,
        webhook_name=_text(envelope.get("webhookName")),
        resource_type=context.resource_type,
        timestamp_ms=context.timestamp_ms,
        events=events,
    )


def read_event(raw: str) -> Report | OtherEvent | RefusedEvent:
    """One event's JSON text (an item's `raw`) read again, as the delivery read it. Raises
    ReportRejected when it is not JSON."""
    check_depth(raw)
    try:
        value = _LONG_INTEGERS.decode(raw)
    except (ValueError, RecursionError) as error:
        raise _not_json(error) from None
    return _event(value, _Envelope(None, None, None))


# The envelope, read with the exact text of each event.


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise ValueError(f"the name {_shown(name)!r} appears twice in one object")
            seen.add(name)
    return value


def _exact_integer(text: str) -> int | Decimal:
    """Integers of any length: Python refuses to read more than 4300 digits as an int."""
    return int(text) if len(text) <= 40 else Decimal(text)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_names, parse_float=Decimal, parse_constant=_no_constant
)
"""Integers by the C scanner's own fast path; one past Python's 4300-digit limit for reading an
int raises, and the body is read again with _LONG_INTEGERS."""
_LONG_INTEGERS = json.JSONDecoder(
    object_pairs_hook=_unique_names,
    parse_float=Decimal,
    parse_int=_exact_integer,
    parse_constant=_no_constant,
)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEPS = {"[": 1, "{": 1, "]": -1, "}": -1}


def check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH before parsing: the standard parser's own limit
    is a RecursionError whose depth depends on the Python version and the stack in use."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if len(brackets) <= MAX_JSON_DEPTH:
        return
    if max(accumulate(_STEPS[bracket] for bracket in brackets)) > MAX_JSON_DEPTH:
        raise ReportRejected(
            RejectReason.NOT_WELL_FORMED,
            f"the body nests deeper than {MAX_JSON_DEPTH} levels",
        )


class _Malformed(ValueError):
    pass


def _envelope(text: str) -> tuple[dict[str, Any], list[Any], list[tuple[int, int]]]:
    """The envelope's names (every value but `events` read), and each event with its span."""
    try:
        try:
            return _read_envelope(text, _DECODER)
        except ValueError as error:
            if "integer string conversion" not in str(error):
                raise
            return _read_envelope(text, _LONG_INTEGERS)
    except (ValueError, RecursionError, IndexError) as error:
        raise _not_json(error) from None


def _read_envelope(
    text: str, decoder: json.JSONDecoder
) -> tuple[dict[str, Any], list[Any], list[tuple[int, int]]]:
    pos = _skip(text, 0)
    if not text.startswith("{", pos):
        decoder.decode(text)  # not JSON: its own error; JSON: not an envelope
        raise _no_events("the body is not a JSON object")
    reader = _EnvelopeMembers(text, decoder)
    pos = _skip(text, pos + 1)
    if text[pos] == "}":
        pos += 1
    else:
        pos = reader.read_members(pos)
    if _skip(text, pos) != len(text):
        raise _Malformed(f"extra data after the JSON value at char {pos}")
    if reader.values is None:
        raise _no_events(
            "the delivery's events are not an array"
            if "events" in reader.fields
            else "the delivery has no events array"
        )
    return reader.fields, reader.values, reader.spans


class _EnvelopeMembers:
    """The envelope object's members: every value read, the events array with each event's span."""

    def __init__(self, text: str, decoder: json.JSONDecoder) -> None:
        self.text = text
        self.decoder = decoder
        self.fields: dict[str, Any] = {}
        self.values: list[Any] | None = None
        self.spans: list[tuple[int, int]] = []

    def read_members(self, pos: int) -> int:
        """From the first member's name to just after the closing `}`."""
        text = self.text
        while True:
            pos = _skip(text, self.read_member(pos))
            if text[pos] == "}":
                return pos + 1
            if text[pos] != ",":
                raise _Malformed(f"expected ',' or '}}' at char {pos}")
            pos = _skip(text, pos + 1)

    def read_member(self, pos: int) -> int:
        text = self.text
        if text[pos] != '"':
            raise _Malformed(f"expected a name at char {pos}")
        name, pos = scanstring(text, pos + 1, True)
        pos = _skip(text, pos)
        if text[pos] != ":":
            raise _Malformed(f"expected ':' at char {pos}")
        pos = _skip(text, pos + 1)
        if name in self.fields or (name == "events" and self.values is not None):
            raise _Malformed(f"the name {_shown(name)!r} appears twice in one object")
        if name == "events" and text[pos] == "[":
            self.values, self.spans, pos = _array_with_spans(text, pos, self.decoder)
        else:
            self.fields[name], pos = self.decoder.raw_decode(text, pos)
        return pos


def _array_with_spans(
    text: str, pos: int, decoder: json.JSONDecoder
) -> tuple[list[Any], list[tuple[int, int]], int]:
    values: list[Any] = []
    spans: list[tuple[int, int]] = []
    pos = _skip(text, pos + 1)
    if text[pos] == "]":
        return values, spans, pos + 1
    while True:
        value, end = decoder.raw_decode(text, pos)
        values.append(value)
        spans.append((pos, end))
        pos = _skip(text, end)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
            continue
        if text[pos] != "]":
            raise _Malformed(f"expected ',' or ']' at char {pos}")
        return values, spans, pos + 1


def _skip(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def _not_json(error: BaseException) -> ReportRejected:
    if isinstance(error, RecursionError):
        detail = "the body nests too deeply"
    elif isinstance(error, IndexError):
        detail = "the body ends before its JSON does"
    else:
        detail = str(error).splitlines()[0][:200] or type(error).__name__
    return ReportRejected(RejectReason.NOT_WELL_FORMED, f"the body is not JSON ({detail})")


def _no_events(detail: str) -> ReportRejected:
    return ReportRejected(RejectReason.NO_EVENTS, detail)


# Events.


@dataclass(frozen=True, slots=True)
class _Envelope:
    """What an event takes from its envelope when it does not say it itself."""

    webhook_id: str | None
    resource_type: str | None
    timestamp_ms: int | None


_RESOURCE_TYPES = {
    name.lower(): name
    for name in (
        *{resource for resource, _ in CALL_EVENTS},
        *CAMPAIGN_RESOURCES,
        CallfireV2.LOW_BALANCE,
    )
}
_EVENT_NAMES = {
    name.lower(): name
    for name in (CallfireV2.STARTED, CallfireV2.STOPPED, CallfireV2.FINISHED, CallfireV2.FAILED)
}


def _event(value: Any, envelope: _Envelope) -> Report | OtherEvent | RefusedEvent:
    if not isinstance(value, dict):
        return RefusedEvent(RejectReason.UNKNOWN_REPORT, "the event is not a JSON object")
    resource_type = _known_name(_text(value.get("resourceType")) or envelope.resource_type)
    event_type = _known_name(_text(value.get("eventType")), _EVENT_NAMES)
    webhook_id = _identifier(value.get("webhookId")) or envelope.webhook_id
    timestamp_ms = _integer(value.get("timestamp"))
    if timestamp_ms is None:
        timestamp_ms = envelope.timestamp_ms
    if resource_type is None:
        return OtherEvent("unknown", event_type, webhook_id, timestamp_ms)
    origin = WebhookOrigin(
        resource_type=resource_type,
        event_type=event_type or "",
        webhook_id=webhook_id,
        event_timestamp=iso_from_epoch_ms(timestamp_ms),
    )
    kind = CALL_EVENTS.get((resource_type, event_type or ""))
    if kind is not None:
        return _call(value.get("resource"), kind, origin)
    if resource_type in CAMPAIGN_RESOURCES and event_type in CAMPAIGN_EVENTS:
        return _campaign(value.get("resource"), origin)
    return OtherEvent(resource_type, event_type, webhook_id, timestamp_ms)


def _known_name(name: str | None, names: Mapping[str, str] = _RESOURCE_TYPES) -> str | None:
    """CallFire's spelling of a resource or event name given in any case; others as given."""
    if name is None:
        return None
    return names.get(name.lower(), name)


class _Fields:
    """A resource's fields, taken one by one; what is left (or of the wrong type) is `extra`."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self._left = dict(resource)
        self.extra: dict[str, Any] = {}

    def take(self, name: str) -> Any:
        return self._left.pop(name, None)

    def typed(self, name: str, kind: type | tuple[type, ...]) -> Any:
        """The field when it has the right type (None stays absent); else it goes to extra."""
        value = self._left.pop(name, None)
        if value is None:
            return None
        if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
            return value
        self.keep(name, value)
        return None

    def identifier(self, name: str) -> str | None:
        value = self._left.pop(name, None)
        text = _identifier(value)
        if text is None and value is not None:
            self.keep(name, value)
        return text

    def time(self, name: str) -> str | None:
        value = self._left.pop(name, None)
        iso = iso_from_epoch_ms(value)
        if iso is None and value is not None:
            self.keep(name, value)
        return iso

    def keep(self, name: str, value: Any) -> None:
        self.extra[name] = item_value(value, depth=2)

    def rest(self) -> dict[str, Any]:
        for name, value in self._left.items():
            self.keep(name, value)
        self._left.clear()
        return self.extra


def _resource(value: Any, origin: WebhookOrigin) -> tuple[_Fields, str] | RefusedEvent:
    if not isinstance(value, dict):
        return RefusedEvent(
            RejectReason.UNKNOWN_REPORT,
            f"the {origin.resource_type} event has no resource object",
        )
    fields = _Fields(value)
    raw_id = value.get("id")
    resource_id = fields.identifier("id")
    if resource_id is None:
        shown = "no id" if raw_id is None else "an id that is not a whole number"
        return RefusedEvent(
            RejectReason.UNKNOWN_REPORT, f"the {origin.resource_type} resource has {shown}"
        )
    if len(resource_id) > MAX_IDENTIFIER_CHARS:
        return RefusedEvent(
            RejectReason.UNKNOWN_REPORT,
            f"the {origin.resource_type} id is longer than {MAX_IDENTIFIER_CHARS} characters",
        )
    return fields, resource_id


def _call(value: Any, kind: EventType, origin: WebhookOrigin) -> CallReport | RefusedEvent:
    read = _resource(value, origin)
    if isinstance(read, RefusedEvent):
        return read
    fields, call_id = read
    inbound_resource = origin.resource_type in INBOUND_RESOURCES
    from_number = fields.typed("fromNumber", str)
    to_number = fields.typed("toNumber", str)
    created = fields.time("created")
    origin.resource_modified = fields.time("modified")
    records = _records(fields)
    recordings = _recordings(records)
    final_name = "finalTextResult" if origin.resource_type in _TEXTS else "finalCallResult"
    final = fields.typed(final_name, str)
    message = fields.typed("message", str)
    labels = _strings(fields, "labels")
    attributes = _string_map(fields, "attributes")
    contact = fields.typed("contact", dict)
    media = fields.typed("media", list)
    first, last = (records[0], records[-1]) if records else ({}, {})
    report = CallReport(
        call_id=call_id,
        event_type=kind,
        campaign_id=fields.identifier("campaignId"),
        batch_id=fields.identifier("batchId"),
        from_number=from_number,
        to_number=to_number,
        phone_number=from_number if inbound_resource else to_number,
        inbound=fields.typed("inbound", bool),
        state=fields.typed("state", str),
        disposition=final or _record_result(last),
        call_start=iso_from_epoch_ms(first.get("originateTime")) or created,
        finish_time=iso_from_epoch_ms(last.get("finishTime")),
        duration_seconds=_whole(last.get("duration")),
        billed_amount=_billed(records),
        tags=labels,
        stored_data=attributes,
        contact=item_value(contact) if contact is not None else None,
        records=tuple(item_value(record) for record in records),
        media=tuple(item_value(entry) for entry in media) if media is not None else None,
        sms_sent=message if kind is EventType.TEXT_SENT else None,
        sms_received=message if kind is EventType.TEXT_REPLY else None,
        recording_urls=tuple(url for url, _ in recordings),
        recording_details=tuple(detail for _, detail in recordings),
        origin=origin,
    )
    if message is not None and kind is EventType.CALL:
        fields.keep("message", message)
    report.extra = fields.rest()
    return report


def _records(fields: _Fields) -> list[dict[str, Any]]:
    records = fields.typed("records", list)
    if records is None:
        return []
    if all(isinstance(record, dict) for record in records):
        return records
    fields.keep("records", records)
    return []


def _record_result(record: Mapping[str, Any]) -> str | None:
    """The record's result: `result` (`callResult` in older samples; `textResult` for texts)."""
    for name in ("result", "callResult", "textResult"):
        value = record.get(name)
        if isinstance(value, str):
            return value
    return None


def _billed(records: list[dict[str, Any]]) -> int | Decimal | None:
    amounts = [
        record["billedAmount"]
        for record in records
        if isinstance(record.get("billedAmount"), int | Decimal)
        and not isinstance(record.get("billedAmount"), bool)
    ]
    if not amounts:
        return None
    total: int | Decimal = sum(amounts, Decimal(0))
    if all(type(amount) is int for amount in amounts):
        total = int(total)
    return storable_number(total)


def _whole(value: Any) -> int | None:
    return value if type(value) is int and storable_number(value) is not None else None


def _recordings(records: list[dict[str, Any]]) -> list[tuple[str, RecordingDetail]]:
    """Every recording of every record, in order: its URL (`mp3Url`, else CallFire's v2 recording
    endpoint for its id) and its id and state."""
    found = []
    for record in records:
        entries = record.get("recordings")
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            recording_id = _identifier(entry.get("id"))
            url = _text(entry.get("mp3Url"))
            if url is None and recording_id is None:
                continue
            found.append(
                (
                    url or f"{V2_RECORDINGS_URL}/{recording_id}.mp3",
                    RecordingDetail(recording_id, _text(entry.get("state"))),
                )
            )
    return found


def _strings(fields: _Fields, name: str) -> tuple[str, ...]:
    value = fields.typed(name, list)
    if value is None:
        return ()
    if all(isinstance(entry, str) for entry in value):
        return tuple(value)
    fields.keep(name, value)
    return ()


def _string_map(fields: _Fields, name: str) -> dict[str, str]:
    value = fields.typed(name, dict)
    if value is None:
        return {}
    if all(isinstance(entry, str) for entry in value.values()) and "" not in value:
        return dict(value)
    fields.keep(name, value)
    return {}


def _campaign(value: Any, origin: WebhookOrigin) -> CampaignReport | RefusedEvent:
    read = _resource(value, origin)
    if isinstance(read, RefusedEvent):
        return read
    if origin.event_timestamp is None:
        return RefusedEvent(
            RejectReason.UNKNOWN_REPORT,
            f"the {origin.resource_type} {origin.event_type} event has no timestamp",
        )
    fields, campaign_id = read
    origin.resource_modified = fields.time("lastModified")
    report = CampaignReport(
        campaign_id=campaign_id,
        name=fields.typed("name", str),
        status=fields.typed("status", str),
        campaign_type=origin.resource_type,
        from_number=fields.typed("fromNumber", str),
        tags=_strings(fields, "labels"),
        events={origin.event_type: origin.event_timestamp},
        origin=origin,
    )
    report.extra = fields.rest()
    return report


# Values.


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _integer(value: Any) -> int | None:
    return value if type(value) is int else None


def _identifier(value: Any) -> str | None:
    """An id as exact decimal text: a JSON integer, or a string of digits (some serializers quote
    64-bit ids); anything else is not an id."""
    if type(value) is int:
        return str(value) if value >= 0 else None
    if isinstance(value, Decimal) and value.as_tuple().exponent == 0 and value >= 0:
        return str(value)  # an integer longer than 40 digits
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    return None


def item_value(value: Any, depth: int = 1) -> Any:
    """A JSON value as an item holds it at `depth` (an attribute is at 1): numbers DynamoDB cannot
    store kept as their text, maps and lists deeper than MAX_VALUE_DEPTH truncated, empty names
    (DynamoDB refuses them) renamed."""
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        stored = storable_number(value)
        return str(value) if stored is None else stored
    if depth > MAX_VALUE_DEPTH:
        return dict(_TRUNCATED)
    if isinstance(value, dict):
        return {(name or "#empty"): item_value(entry, depth + 1) for name, entry in value.items()}
    return [item_value(entry, depth + 1) for entry in value]


def _shown(text: str) -> str:
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return printable if len(printable) <= 64 else printable[:61] + "..."
