"""The registration's pure parts: endpoints, the postback URL with its token, the form, the
properties, CallFire's answer read tolerantly, and redaction."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, quote_plus

import pytest

from functions.names import SubscriptionResource as Prop
from functions.registration.answer import MalformedAnswer, ReportResponse, read_report_response
from functions.registration.redaction import MASK, Redactor, excerpt
from functions.registration.subscriptions import (
    Endpoint,
    InvalidProperties,
    endpoints_for,
    physical_id,
    request_from,
    subscription_form,
    with_token,
)
from local.callfire import SAVED, report_response
from tests.helpers import event_body

PROPERTIES = {
    "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:framework",
    Prop.POSTBACK_URL: "https://abc.execute-api.us-east-1.amazonaws.com/postbacks",
    Prop.CALLFIRE_BASE_URL: "https://www.callfire.com/",
    Prop.CAMPAIGN_IDS: [],
    Prop.API_KEY_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cf/api-key",
    Prop.TOKEN_SECRET_ARN: ("arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf"),
}


def test_account_wide_subscribes_call_and_campaign_reports() -> None:
    assert [e.url("https://www.callfire.com") for e in endpoints_for(())] == [
        "https://www.callfire.com/cloud/1/reports/callback/callfinish",
        "https://www.callfire.com/cloud/1/reports/callback/campaignfinish",
    ]


def test_each_campaign_gets_both_kinds_in_order() -> None:
    assert [e.path for e in endpoints_for(("12", "34"))] == [
        "/cloud/1/reports/callback/callfinish/12",
        "/cloud/1/reports/callback/campaignfinish/12",
        "/cloud/1/reports/callback/callfinish/34",
        "/cloud/1/reports/callback/campaignfinish/34",
    ]
    assert str(Endpoint("callfinish", "12")) == "callfinish (campaign 12)"
    assert str(Endpoint("campaignfinish")) == "campaignfinish (account-wide)"


@pytest.mark.parametrize(
    ("postback_url", "expected"),
    [
        ("https://h.example/postbacks", "https://h.example/postbacks?token=t0k"),
        ("https://h.example/postbacks?a=1", "https://h.example/postbacks?a=1&token=t0k"),
    ],
)
def test_post_url_carries_the_token(postback_url: str, expected: str) -> None:
    assert with_token(postback_url, "t0k") == expected


def test_token_is_encoded_in_the_post_url() -> None:
    assert with_token("https://h.example/p", "a&b=c") == "https://h.example/p?token=a%26b%3Dc"


def test_form_has_exactly_the_documented_fields_and_round_trips() -> None:
    form = subscription_form("k+y&=1 2", "https://h.example/p?token=t&x=1")

    assert parse_qs(form.decode("ascii"), strict_parsing=True) == {
        "apikey": ["k+y&=1 2"],
        "postUrl": ["https://h.example/p?token=t&x=1"],
    }


def test_request_from_properties() -> None:
    request = request_from({**PROPERTIES, Prop.CAMPAIGN_IDS: ["7", " 8 ", "7", ""]})

    assert request.base_url == "https://www.callfire.com"
    assert request.postback_url == PROPERTIES[Prop.POSTBACK_URL]
    assert request.campaign_ids == ("7", "8")
    assert request.api_key_secret_arn == PROPERTIES[Prop.API_KEY_SECRET_ARN]
    assert request.token_secret_arn == PROPERTIES[Prop.TOKEN_SECRET_ARN]
    assert request_from({**PROPERTIES, Prop.CAMPAIGN_IDS: "1,2"}).campaign_ids == (
        "1",
        "2",
    )
    assert request_from(
        {k: v for k, v in PROPERTIES.items() if k != Prop.CAMPAIGN_IDS}
    ).endpoints == (
        Endpoint("callfinish"),
        Endpoint("campaignfinish"),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({Prop.POSTBACK_URL: ""}, "PostbackUrl is missing"),
        ({Prop.API_KEY_SECRET_ARN: None}, "ApiKeySecretArn is missing"),
        ({Prop.TOKEN_SECRET_ARN: "  "}, "TokenSecretArn is missing"),
        (
            {Prop.CALLFIRE_BASE_URL: "file:///etc/passwd"},
            "CallfireBaseUrl is not an http(s) URL",
        ),
        (
            {Prop.POSTBACK_URL: "https:///nohost"},
            "PostbackUrl is not an http(s) URL",
        ),
        ({Prop.CAMPAIGN_IDS: ["12", "1e3"]}, "non-numeric campaign id: '1e3'"),
        ({Prop.CAMPAIGN_IDS: ["١٢"]}, "non-numeric"),
        ({Prop.CAMPAIGN_IDS: {"a": 1}}, "CampaignIds is not a list"),
    ],
)
def test_invalid_properties_are_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidProperties) as raised:
        request_from({**PROPERTIES, **change})
    assert message in str(raised.value)


def test_physical_id_is_stable_and_names_no_secret() -> None:
    first = physical_id(PROPERTIES[Prop.POSTBACK_URL])

    assert first == physical_id(PROPERTIES[Prop.POSTBACK_URL])
    assert first != physical_id("https://other.example/postbacks")
    assert first.startswith("callfire-subscription-")
    assert "execute-api" not in first


def test_the_documents_answer_exactly_as_printed_is_success() -> None:
    assert SAVED.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes">\n')
    assert read_report_response(SAVED) == ReportResponse(success=True, description="Saved")


@pytest.mark.parametrize("root", ["reportresponse", "reportResponse", "ReportResponse"])
@pytest.mark.parametrize("flag", ["success", "successful"])
def test_either_spelling_of_root_and_flag_is_read(root: str, flag: str) -> None:
    body = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{root}>'
        f"<description>Saved</description><{flag}> TRUE </{flag}></{root}>"
    ).encode()

    assert read_report_response(body) == ReportResponse(success=True, description="Saved")


@pytest.mark.parametrize(
    "body",
    [
        b"<reportresponse><success>false</success><description>Bad key</description>"
        b"</reportresponse>",
        b"\xef\xbb\xbf<reportresponse><success>false</success>"
        b"<description>Bad key</description></reportresponse>",
        b'<r:reportResponse xmlns:r="urn:x"><r:successful>false</r:successful>'
        b"<r:description>Bad key</r:description></r:reportResponse>",
        report_response("Bad key", success=False),
    ],
    ids=["no-declaration", "byte-order-mark", "namespaced", "stand-in"],
)
def test_a_false_flag_is_read_with_its_description(body: bytes) -> None:
    assert read_report_response(body) == ReportResponse(success=False, description="Bad key")


def test_a_missing_description_is_none() -> None:
    answer = read_report_response(b"<reportresponse><success>true</success></reportresponse>")
    assert answer == ReportResponse(success=True, description=None)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not well-formed"),
        (b"Saved", "not well-formed"),
        (b"<html><body>Login</body></html>", "root element is 'html'"),
        (b"<reportresponse><description>x</description></reportresponse>", "neither"),
        (b"<reportresponse><success>maybe</success></reportresponse>", "'maybe'"),
        (b"<reportresponse><success>true</success>", "not well-formed"),
        (event_body("billion_laughs.xml"), "DTD"),
        (event_body("xxe_file.xml"), "DTD"),
    ],
    ids=["empty", "text", "html", "no-flag", "odd-flag", "truncated", "entities", "xxe"],
)
def test_malformed_answers_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedAnswer) as raised:
        read_report_response(body)
    assert reason in str(raised.value)


def test_redactor_hides_every_form_a_secret_travels_in() -> None:
    key = "k3y/with+odd&chars<>"
    redact = Redactor([key, "plainToken"])
    text = " | ".join(
        [
            key,
            quote(key, safe=""),
            quote_plus(key),
            quote(key, safe="").lower(),
            "k3y/with+odd&amp;chars&lt;&gt;",
            "postUrl=https://h/p?token=plainToken",
        ]
    )

    redacted = redact(text)

    assert redacted == " | ".join([MASK] * 5 + ["postUrl=https://h/p?token=***"])


def test_redactor_without_secrets_changes_nothing() -> None:
    assert Redactor(["", ""])("nothing to hide") == "nothing to hide"


def test_redactor_prefers_the_longest_secret() -> None:
    assert Redactor(["abc", "abcdef"])("xabcdefx abc") == "x***x ***"


def test_excerpt_is_one_printable_bounded_line() -> None:
    assert excerpt("a\n  b\tc\x00") == "a b c?"
    assert excerpt("x" * 300, 10) == "x" * 9 + "…"
