"""Bytes to text to element tree, safely: defusedxml only; no DTD, entity or external reference."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Protocol

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError, fromstring

from functions.reports.errors import RejectReason, ReportRejected


class XmlElement(Protocol):
    """What the readers use of an ElementTree element."""

    tag: str
    text: str | None
    tail: str | None
    attrib: dict[str, str]

    def __iter__(self) -> Iterator[XmlElement]: ...

    def __len__(self) -> int: ...


_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_UTF8_NAMES = {"utf-8", "UTF-8", "utf8", "UTF8"}
_DECLARED_ENCODING = re.compile(
    rb"""<\?xml[^>]{0,200}?\sencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]{0,39})["']"""
)


def decode_xml(body: bytes) -> str:
    """The body as text, decoded as its byte-order mark or XML declaration says (else UTF-8)."""
    if not body.startswith(b"<"):
        for mark, codec in _BYTE_ORDER_MARKS:
            if body.startswith(mark):
                return _decode(body, codec)
        body_start = body.lstrip()
    else:
        body_start = body
    declared = _DECLARED_ENCODING.match(body_start) if body_start.startswith(b"<?xml") else None
    return _decode(body, declared.group(1).decode("ascii") if declared else "utf-8")


def check_declared_encoding(text: str) -> str:
    """`text` unchanged, once its declared encoding (if any) is known to be a real one."""
    declared = _DECLARED_ENCODING.match(text.lstrip()[:256].encode("utf-8", "replace"))
    if declared:
        _codec(declared.group(1).decode("ascii"))
    return text


def _codec(encoding: str) -> codecs.CodecInfo:
    try:
        return codecs.lookup(encoding)
    except LookupError:
        raise ReportRejected(
            RejectReason.NOT_WELL_FORMED, f"the declared encoding {encoding!r} is not known"
        ) from None


def _decode(body: bytes, encoding: str) -> str:
    if encoding in _UTF8_NAMES:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ReportRejected(
                RejectReason.NOT_WELL_FORMED,
                f"the body is not valid {encoding} (byte {error.start} cannot be decoded)",
            ) from None
    codec = _codec(encoding)
    try:
        return codec.decode(body)[0]
    except UnicodeDecodeError as error:
        raise ReportRejected(
            RejectReason.NOT_WELL_FORMED,
            f"the body is not valid {encoding} (byte {error.start} cannot be decoded)",
        ) from None


def parse_xml(text: str) -> XmlElement:
    """The root element of `text`; any DTD, entity declaration or external reference is refused."""
    try:
        root: XmlElement = fromstring(
            text.lstrip(), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DTDForbidden:
        raise ReportRejected(
            RejectReason.FORBIDDEN_XML, "a DTD (<!DOCTYPE ...>) is not accepted"
        ) from None
    except EntitiesForbidden:
        raise ReportRejected(
            RejectReason.FORBIDDEN_XML, "entity declarations are not accepted"
        ) from None
    except ExternalReferenceForbidden:
        raise ReportRejected(
            RejectReason.FORBIDDEN_XML, "external references are not accepted"
        ) from None
    except ParseError as error:
        raise ReportRejected(
            RejectReason.NOT_WELL_FORMED, f"the body is not well-formed XML ({error})"
        ) from None
    return root
