"""Which recording URLs may be fetched, from which addresses, with which key: the pure rules."""

from __future__ import annotations

import ipaddress

import pytest

from functions.recordings.policy import (
    Refused,
    UrlPolicy,
    address_refusal,
    host_on,
    parse_origins,
    parse_stand_ins,
    redact_url,
    with_api_key,
)

POLICY = UrlPolicy(
    allowed_hosts=["callfire.com", "recordings.example.net"],
    callfire_hosts=["callfire.com"],
    loopback_origins={("127.0.0.1", 8765)},
)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("callfire.com", True),
        ("www.callfire.com", True),
        ("a.b.callfire.com", True),
        ("evilcallfire.com", False),
        ("callfire.com.evil.example", False),
        ("callfire.co", False),
        ("", False),
    ],
)
def test_a_host_is_allowed_when_equal_to_or_under_an_entry(host: str, allowed: bool) -> None:
    assert host_on(host, ["callfire.com"]) is allowed


def test_https_urls_on_allowed_hosts_pass_with_their_parts() -> None:
    target = POLICY.check("https://WWW.CallFire.com./cloud/1/files/recording/7?x=1#frag")

    assert (target.scheme, target.host, target.port) == ("https", "www.callfire.com", 443)
    assert target.request_target == "/cloud/1/files/recording/7?x=1"
    assert target.callfire is True
    assert target.loopback_only is False


def test_other_allowed_hosts_do_not_get_the_api_key() -> None:
    target = POLICY.check("https://recordings.example.net:8443/r.mp3")

    assert (target.port, target.callfire) == (8443, False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://www.callfire.com/r.wav", "only https"),
        ("ftp://www.callfire.com/r.wav", "not an https URL"),
        ("file:///etc/passwd", "not an https URL"),
        ("https://evil.example/r.wav", "evil.example is not on recordingHosts"),
        ("https://www.callfire.com.evil.example/r.wav", "is not on recordingHosts"),
        ("https://user:pass@www.callfire.com/r.wav", "user name or password"),
        ("https://www.callfire.com@evil.example/r.wav", "user name or password"),
        ("https://www.callfire.com:99999/r.wav", "port is not a number"),
        ("https://www.callfire.com:http/r.wav", "port is not a number"),
        ("https://www.callfire.com/r .wav", "spaces"),
        ("https://www.callfire.com/r\r\nHost: evil", "control"),
        ("https://www.callfire.com/récording", "non-ASCII"),
        ("https:///r.wav", "not an https URL"),
        ("https://www.callfire.com/" + "a" * 2100, "longer than"),
        ("https://127.0.0.1/r.wav", "127.0.0.1 is not on recordingHosts"),
        ("https://169.254.169.254/latest/meta-data/", "is not on recordingHosts"),
    ],
)
def test_everything_else_is_refused_with_its_reason(url: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        POLICY.check(url)


def test_a_loopback_origin_may_use_http_on_its_exact_port_only() -> None:
    policy = UrlPolicy(allowed_hosts=["127.0.0.1"], loopback_origins={("127.0.0.1", 8765)})

    target = policy.check("http://127.0.0.1:8765/cloud/1/files/recording/1")
    assert (target.scheme, target.loopback_only) == ("http", True)
    with pytest.raises(Refused, match="only https"):
        policy.check("http://127.0.0.1:8766/cloud/1/files/recording/1")
    with pytest.raises(Refused, match="only https"):
        policy.check("http://localhost:8765/cloud/1/files/recording/1")
    assert policy.check("https://127.0.0.1:8766/r").loopback_only is False


def test_a_loopback_origin_is_still_subject_to_the_allow_list() -> None:
    policy = UrlPolicy(allowed_hosts=["callfire.com"], loopback_origins={("127.0.0.1", 8765)})

    with pytest.raises(Refused, match="not on recordingHosts"):
        policy.check("http://127.0.0.1:8765/r")


STAND_IN = UrlPolicy(
    allowed_hosts=["callfire.com", "recordings.example.net"],
    callfire_hosts=["callfire.com"],
    stand_ins={"callfire.com": ("127.0.0.1", 8081)},
)


def test_a_stand_in_serves_its_hosts_urls_from_loopback_keeping_the_url() -> None:
    url = "https://www.callfire.com/cloud/1/files/recording/7/mp3?x=1"

    target = STAND_IN.check(url)

    assert (target.scheme, target.host, target.port) == ("http", "127.0.0.1", 8081)
    assert target.request_target == "/cloud/1/files/recording/7/mp3?x=1"
    assert (target.url, target.loopback_only, target.callfire) == (url, True, True)


def test_a_stand_in_leaves_other_hosts_alone() -> None:
    target = STAND_IN.check("https://recordings.example.net/r/1")

    assert (target.scheme, target.host, target.port) == ("https", "recordings.example.net", 443)
    assert target.loopback_only is False


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://www.callfire.com/r/1", "only https URLs are fetched"),
        ("https://user:pw@www.callfire.com/r/1", "user name or password"),
    ],
)
def test_a_stand_in_host_still_obeys_the_rules_for_its_own_url(url: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        STAND_IN.check(url)


def test_a_stand_in_for_a_host_off_the_allow_list_fetches_nothing() -> None:
    policy = UrlPolicy(allowed_hosts=["callfire.com"], stand_ins={"evil.example": ("::1", 80)})

    with pytest.raises(Refused, match="not on recordingHosts"):
        policy.check("https://evil.example/r/1")


def test_stand_ins_are_host_and_exact_origin() -> None:
    assert parse_stand_ins(" callfire.com=127.0.0.1:8081 , ,x.example=[::1]:9") == {
        "callfire.com": ("127.0.0.1", 8081),
        "x.example": ("::1", 9),
    }
    for bad in ("callfire.com", "callfire.com=127.0.0.1", "=127.0.0.1:1", "a=1:2,3:4"):
        with pytest.raises(ValueError, match="expected host"):
            parse_stand_ins(bad)


def test_origins_are_exact_host_port_pairs() -> None:
    assert parse_origins(" 127.0.0.1:8765, [::1]:9000,,Localhost:1 ") == {
        ("127.0.0.1", 8765),
        ("::1", 9000),
        ("localhost", 1),
    }
    assert parse_origins("") == frozenset()
    for wrong in ("127.0.0.1", "127.0.0.1:*", ":80", "127.0.0.1:"):
        with pytest.raises(ValueError, match="host:port"):
            parse_origins(wrong)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "2001:db8::1",
    ],
)
def test_loopback_private_link_local_and_reserved_addresses_are_refused(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2a05:d018::1"]
)
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_a_loopback_origin_may_reach_loopback_and_nothing_else() -> None:
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), loopback_only=True) is None
    assert address_refusal(ipaddress.ip_address("::1"), loopback_only=True) is None
    for address in ("10.0.0.1", "169.254.169.254", "8.8.8.8"):
        assert address_refusal(ipaddress.ip_address(address), loopback_only=True) is not None


def test_the_api_key_is_added_and_replaces_any_present() -> None:
    assert with_api_key("/r/7", "k&y") == "/r/7?apikey=k%26y"
    assert with_api_key("/r/7?a=1&ApiKey=old&b=%2F", "new") == "/r/7?a=1&b=%2F&apikey=new"


def test_without_a_key_apikey_parameters_are_removed_and_others_kept_exactly() -> None:
    signed = "/r.mp3?X-Amz-Signature=ab%2Fcd&X-Amz-Date=20240101T000000Z"
    assert with_api_key(signed, None) == signed
    assert with_api_key("/r?apikey=leaked&x=%2F", None) == "/r?x=%2F"
    assert with_api_key("/r?apikey=leaked", None) == "/r"


def test_redacted_urls_hide_every_query_value_and_user_info() -> None:
    assert (
        redact_url("https://u:p@www.callfire.com:444/r/7?apikey=SECRET&X-Amz-Signature=sig")
        == "https://www.callfire.com:444/r/7?apikey=***&X-Amz-Signature=***"
    )
    assert redact_url("https://www.callfire.com/r/7") == "https://www.callfire.com/r/7"
    assert redact_url("https://[::1]:8/r") == "https://[::1]:8/r"
