"""The stand-in CallFire answers like CallFire's document says, over real HTTP."""

from __future__ import annotations

import urllib.request
from urllib.parse import urlencode

import pytest

from local.callfire import SAVED, Canned, StandInCallFire, Subscription


def post_form(url: str, fields: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=urlencode(fields).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_subscriptions_are_recorded_and_answered_as_documented() -> None:
    with StandInCallFire() as callfire:
        status, body = post_form(
            f"{callfire.url}/cloud/1/reports/callback/callfinish/123",
            {"apikey": "k", "postUrl": "https://example.com/postbacks?token=t"},
        )

    assert (status, body) == (200, SAVED)
    assert callfire.subscriptions == [
        Subscription("callfinish", "123", "k", "https://example.com/postbacks?token=t")
    ]


def test_missing_key_is_answered_with_success_false() -> None:
    with StandInCallFire() as callfire:
        status, body = post_form(f"{callfire.url}/cloud/1/reports/callback/campaignfinish", {})

    assert status == 200
    assert b"<success>false</success>" in body
    assert callfire.subscriptions == []


def test_recordings_are_served_and_answers_can_be_scripted() -> None:
    with StandInCallFire() as callfire:
        with urllib.request.urlopen(f"{callfire.url}/cloud/1/files/recording/7", timeout=5) as wav:
            assert wav.headers["Content-Type"] == "audio/x-wav"
            assert wav.read(4) == b"RIFF"
        with urllib.request.urlopen(
            f"{callfire.url}/cloud/1/files/recording/7/mp3", timeout=5
        ) as mp3:
            assert mp3.headers["Content-Type"] == "audio/mpeg"
        callfire.answer("GET", "/busy", Canned(status=503, times=1))
        url = callfire.add_recording("/busy", b"later", "audio/x-wav")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        assert refused.value.code == 503
        with urllib.request.urlopen(url, timeout=5) as recovered:
            assert recovered.read() == b"later"
        streamed = callfire.add_recording("/big", lambda: iter([b"a" * 1000] * 100), "audio/mpeg")
        with urllib.request.urlopen(streamed, timeout=5) as big:
            assert len(big.read()) == 100_000
