"""JSON text for plain values read from DynamoDB, numbers written exactly as stored.

`json.dumps` cannot write a Decimal without turning it into a float first, and a float keeps only
about 17 significant digits where DynamoDB keeps 38. Here a number is written as its decimal text,
so `0.1` stays `0.1` and a 38-digit value keeps every digit. Keys are sorted: the same value always
gives the same text."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def dumps(value: Any) -> str:
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def number_text(number: Decimal | int) -> str:
    """The number as a JSON number, without exponent and without loss."""
    if isinstance(number, int):
        return str(number)
    if not number.is_finite():
        raise ValueError(f"{number} has no JSON form")
    if number == number.to_integral_value():
        return str(int(number))
    return format(number, "f")


def _write(value: Any, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_encode_string(value))
    elif isinstance(value, int | Decimal):
        parts.append(number_text(value))
    elif isinstance(value, dict):
        parts.append("{")
        for position, name in enumerate(sorted(value)):
            if position:
                parts.append(",")
            parts.append(_encode_string(str(name)))
            parts.append(":")
            _write(value[name], parts)
        parts.append("}")
    elif isinstance(value, list | tuple):
        parts.append("[")
        for position, element in enumerate(value):
            if position:
                parts.append(",")
            _write(element, parts)
        parts.append("]")
    else:
        raise TypeError(f"no JSON form for {type(value).__name__}")


def size(value: Any) -> int:
    """Bytes of the value's JSON text in UTF-8."""
    return len(dumps(value).encode("utf-8"))
