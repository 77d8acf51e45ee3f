"""The smoke test's own pieces: the report it sends is one the postback function recognises as a
smoke test (and no real report is), the token is taken out of the local postback URL, and the v2
delivery is signed as CallFire signs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from functions.postback.delivery import read_webhook
from functions.reports import read_report
from functions.reports.items import to_item
from functions.reports.model import CallReport, CampaignReport, EventType
from functions.reports.smoke import is_smoke_delivery, is_smoke_item, is_smoke_test
from tests.helpers import EVENTS, event_body
from tools.smoke import signature_of, smoke_report, split_token, v2_delivery, with_token

NOW = datetime(2026, 11, 29, 10, 11, 12, 345678, tzinfo=UTC)


def test_the_smoke_report_reads_as_a_smoke_test_with_what_the_item_must_hold() -> None:
    sent = smoke_report("0f1e", NOW)

    report, text = read_report(sent.body)

    assert is_smoke_test(report)
    assert isinstance(report, CallReport)
    assert (report.call_id, report.campaign_id) == ("smoke-0f1e", "smoke")
    assert report.recording_urls == ()
    assert sent.expected["callStart"] == "2026-11-29T10:11:12"
    assert sent.expected["raw"] == text


@pytest.mark.parametrize(
    "report",
    [
        read_report(event_body("call_finished.xml"))[0],
        CallReport(call_id="smoke-1", event_type=EventType.CALL, campaign_id="22222"),
        CallReport(call_id="1", event_type=EventType.CALL, campaign_id="smoke"),
        CampaignReport(campaign_id="smoke"),
        None,
    ],
)
def test_no_other_report_is_taken_for_a_smoke_test(report: object) -> None:
    assert not is_smoke_test(report)  # type: ignore[arg-type]


def test_the_token_is_split_from_the_local_postback_url_and_put_back() -> None:
    url, token = split_token("http://127.0.0.1:8080/postbacks?token=Ab%2Bc")

    assert (url, token) == ("http://127.0.0.1:8080/postbacks", "Ab+c")
    assert with_token(url, token) == "http://127.0.0.1:8080/postbacks?token=Ab%2Bc"


def test_signature_matches_callfire_s_documented_test_vector() -> None:
    """CallFire's v2 docs: body `{"name":"test webhook", "callback":"sms:callfire"}` with secret
    `mysecrets` is signed `v14pF7d5C1+CHNIEWlg+sw9v0Xg=` (base64 of HMAC-SHA1)."""
    body = b'{"name":"test webhook", "callback":"sms:callfire"}'

    assert signature_of("mysecrets", body) == "v14pF7d5C1+CHNIEWlg+sw9v0Xg="


def test_the_v2_delivery_carries_the_whole_id_as_a_json_integer() -> None:
    call_id = 2**127 + 12345

    delivery = json.loads(v2_delivery(call_id, NOW))

    (event,) = delivery["events"]
    assert (event["resourceType"], event["eventType"]) == ("OutboundCall", "Finished")
    assert event["resource"]["id"] == call_id
    assert event["resource"]["records"] == []
    assert delivery["webhookName"] == "smoke"


def test_the_smoke_delivery_reads_as_a_smoke_test_and_callfire_s_samples_do_not() -> None:
    smoke = read_webhook(v2_delivery(2**70, NOW), None, 10**6)

    assert is_smoke_delivery(smoke.webhook_name, [event.content for event in smoke.events])
    for sample in sorted((EVENTS / "v2").glob("*.json")):
        delivery = read_webhook(sample.read_bytes(), None, 10**6)
        contents = [event.content for event in delivery.events]
        assert not is_smoke_delivery(delivery.webhook_name, contents), sample.name


def test_a_delivery_named_smoke_with_an_unlabelled_call_is_not_a_smoke_test() -> None:
    body = json.loads(v2_delivery(1, NOW))
    body["events"][0]["resource"]["labels"] = ["campaign"]
    delivery = read_webhook(json.dumps(body), None, 10**6)

    assert not is_smoke_delivery(delivery.webhook_name, [e.content for e in delivery.events])


def stored_items(body: bytes) -> list[dict[str, object]]:
    delivery = read_webhook(body, None, 10**6)
    return [
        to_item(event.content, raw=event.raw, received_at="2026-11-29T10:11:12.000Z").attributes
        for event in delivery.events
        if isinstance(event.content, CallReport)
    ]


def test_stored_smoke_items_of_both_generations_are_smoke_items_and_callfire_s_are_not() -> None:
    (v2_item,) = stored_items(v2_delivery(2**70, NOW))
    sent = smoke_report("0f1e", NOW)
    report, text = read_report(sent.body)
    legacy_item = to_item(report, raw=text, received_at="2026-11-29T10:11:12.000Z").attributes

    assert is_smoke_item(v2_item)
    assert is_smoke_item(legacy_item)
    for sample in sorted((EVENTS / "v2").glob("*.json")):
        for item in stored_items(sample.read_bytes()):
            assert not is_smoke_item(item), sample.name
    relabelled = json.loads(v2_delivery(2**70, NOW))
    relabelled["events"][0]["resource"]["labels"] = ["campaign"]
    (unlabelled,) = stored_items(json.dumps(relabelled).encode())
    assert not is_smoke_item(unlabelled)
