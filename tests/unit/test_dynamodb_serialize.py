"""The hot-path serializer gives exactly what boto3's TypeSerializer gives for item values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from functions.adapters.dynamodb import attribute_value, serialize
from functions.reports import ReportRejected, read_report
from functions.reports.items import to_item
from tests.helpers import EVENTS

_reference = TypeSerializer()
values = st.recursive(
    st.none()
    | st.booleans()
    | st.text(max_size=20)
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**12), max_value=10**12
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_same_as_boto3_for_any_item_value(value: Any) -> None:
    assert attribute_value(value) == _reference.serialize(value)


def readable_samples() -> list[Any]:
    readable = []
    for path in sorted([*EVENTS.glob("*.xml"), *(EVENTS / "hostile").glob("*.xml")]):
        try:
            read_report(path.read_bytes())
        except ReportRejected:
            continue
        readable.append(path)
    return readable


@pytest.mark.parametrize("path", readable_samples(), ids=lambda path: path.name)
def test_same_as_boto3_for_every_sample_item(path: Any) -> None:
    report, text = read_report(path.read_bytes())
    attributes = to_item(report, raw=text, received_at="2026-01-01T00:00:00.000Z").attributes

    assert serialize(attributes) == {
        name: _reference.serialize(value) for name, value in attributes.items()
    }


def test_types_items_never_hold_are_refused() -> None:
    with pytest.raises(TypeError):
        attribute_value(1.5)
    with pytest.raises(TypeError):
        attribute_value({1, 2})
    assert attribute_value(Decimal("2.25")) == {"N": "2.25"}
