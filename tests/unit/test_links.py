"""What ties a report to a person: phone numbers in one canonical form, only ever hashed with the
salt, and call and campaign ids, read from items of any format."""

from __future__ import annotations

import pytest

from functions.adapters.archive import archived_key_of, marker_key
from functions.reports import read_report
from functions.reports.items import ReportItem, Table, to_item
from functions.reports.links import (
    HASH_CHARS,
    LinkKind,
    ReportLinks,
    canonical_phone,
    keyed_hash,
    links_of,
    phone_link,
    phone_variants,
)
from tests.helpers import event_body


@pytest.mark.parametrize(
    "written", ["2132212289", "12132212289", "+1 (213) 221-2289", "+12132212289", "213.221.2289"]
)
def test_every_spelling_of_a_north_american_number_is_one_number(written: str) -> None:
    assert canonical_phone(written) == "12132212289"


def test_short_codes_and_other_countries_keep_their_digits() -> None:
    assert canonical_phone("88202") == "88202"
    assert canonical_phone("+44 20 7946 0958") == "442079460958"


def test_the_variants_cover_how_legacy_and_v2_reports_write_a_number() -> None:
    variants = phone_variants("(213) 221-2289")

    assert {"2132212289", "12132212289", "+12132212289", "(213) 221-2289"} <= set(variants)
    assert len(variants) == len(set(variants))


def test_the_keyed_hash_depends_on_the_salt_and_never_shows_the_number() -> None:
    one = keyed_hash("salt-a", LinkKind.PHONE, "12132212289")

    assert one == keyed_hash("salt-a", LinkKind.PHONE, "12132212289")
    assert one != keyed_hash("salt-b", LinkKind.PHONE, "12132212289")
    assert len(one) == HASH_CHARS
    assert "2132212289" not in one
    assert phone_link("salt-a", "2132212289") == phone_link("salt-a", "+1 213 221 2289")


def test_a_legacy_call_links_both_sides_its_call_and_its_campaign() -> None:
    report, text = read_report(event_body("call_finished.xml"))
    item = to_item(report, raw=text, received_at="2026-11-28T05:26:07.123Z")

    links = links_of(item)

    assert links == ReportLinks(
        phone_numbers=("2132212289", "8778973473"), call_id="111111", campaign_id="22222"
    )
    names = links.names("salt")
    assert [name.split("/")[0] for name in names] == ["phone", "phone", "call", "campaign"]
    assert phone_link("salt", "12132212289") in names


def test_a_v2_item_links_its_from_and_to_numbers_by_attribute_name() -> None:
    item = ReportItem(
        Table.CALLS,
        {"callId": "1024990109003", "eventType": "call"},
        {
            "callId": "1024990109003",
            "eventType": "call",
            "phoneNumber": "12132041238",
            "fromNumber": "12132212384",
            "toNumber": "12132041238",
            "campaignId": "13194908003",
        },
    )

    links = links_of(item)

    assert links.phone_numbers == ("12132041238", "12132212384", "12132041238")
    assert len([n for n in links.names("s") if n.startswith("phone/")]) == 2


def test_a_campaign_links_only_its_campaign() -> None:
    report, text = read_report(event_body("campaign_finished.xml"))
    item = to_item(report, raw=text, received_at="2026-11-28T05:26:07.123Z")

    assert links_of(item) == ReportLinks(campaign_id=report.campaign_id)


def test_without_the_salt_numbers_are_left_out_of_the_index() -> None:
    links = ReportLinks(phone_numbers=("2132212289",), call_id="1", campaign_id="2")

    assert [name.split("/")[0] for name in links.names(None)] == ["call", "campaign"]


def test_a_marker_names_the_body_it_finds() -> None:
    body = "rejected/2026/11/28/AbC_=.xml"

    marker = marker_key(body, "phone/0123abcd")

    assert marker == "archive-index/rejected/phone/0123abcd/2026/11/28/AbC_=.xml"
    assert archived_key_of(marker) == body
