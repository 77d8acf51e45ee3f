"""The erasure tool's pure rules: where an item's objects are, which index folders to look in,
what marks a body as the subject's, and how the audit record names the subject."""

from __future__ import annotations

from functions.reports.links import LinkKind, call_link, campaign_link, keyed_hash, phone_link
from tools.erasure import (
    Options,
    StoredItem,
    Subject,
    links_to_search,
    needles,
    objects_of,
)


def test_an_item_s_objects_are_its_recordings_folder_and_the_keys_its_entries_name() -> None:
    item = {
        "callId": "111/../1",
        "campaignId": None,
        "recordings": [
            {"url": "u0", "status": "COPIED", "s3Key": "recordings/no-campaign/111_.._1/0.wav"},
            {"url": "u1", "status": "PENDING"},
        ],
    }

    assert objects_of(item) == [
        "recordings/no-campaign/111_.._1/",
        "recordings/no-campaign/111_.._1/0.wav",
    ]
    assert objects_of({"campaignId": "22222", "name": "a campaign"}) == []


def test_a_number_is_looked_up_by_its_keyed_hash_and_by_the_calls_found() -> None:
    found = [StoredItem("calls", {"callId": "7", "eventType": "call"}, {"callId": "7"})]

    assert links_to_search(Subject(LinkKind.PHONE, "2132212289"), found, "salt") == [
        phone_link("salt", "2132212289"),
        call_link("7"),
    ]
    assert links_to_search(Subject(LinkKind.PHONE, "2132212289"), found, None) == [call_link("7")]
    assert links_to_search(Subject(LinkKind.CAMPAIGN, "9"), [], None) == [campaign_link("9")]


def test_a_number_is_found_in_a_body_in_any_spelling_but_not_inside_a_longer_number() -> None:
    patterns = needles(Subject(LinkKind.PHONE, "2132212289"), Options())

    def found(text: str) -> bool:
        return any(pattern.search(text) for pattern in patterns)

    assert found("<phonenumber>2132212289</phonenumber>")
    assert found('"toNumber":"12132212289"')
    assert not found("<callid>921322122890</callid>")
    exact = needles(Subject(LinkKind.PHONE, "2132212289"), Options(exact=True))
    assert [pattern.pattern for pattern in exact] == [r"(?<!\d)2132212289(?!\d)"]


def test_an_id_is_found_as_a_whole_token() -> None:
    (pattern,) = needles(Subject(LinkKind.CALL, "111"), Options())

    assert pattern.search("<callid>111</callid>")
    assert pattern.search('"id":111,')
    assert not pattern.search("<callid>1111</callid>")


def test_the_audit_record_never_names_a_number_without_the_salt() -> None:
    phone = Subject(LinkKind.PHONE, "+1 213 221 2289")

    assert phone.audit_hash("salt") == keyed_hash("salt", LinkKind.PHONE, "12132212289")
    assert phone.audit_hash(None) is None
    assert Subject(LinkKind.CALL, "111").audit_hash(None) is not None
