"""The stand-in CallFire answers like CallFire's document says, over real HTTP."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlencode

import pytest

from functions.postback.signature import signature_of
from local.callfire import (
    LOCAL_PASSWORD,
    LOCAL_USERNAME,
    SAVED,
    Canned,
    StandInCallFire,
    Subscription,
)
from local.http_server import BackgroundHttpServer


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


# The v2 webhooks API, as CallFire documents it, and signed deliveries.

AUTH = "Basic " + base64.b64encode(f"{LOCAL_USERNAME}:{LOCAL_PASSWORD}".encode()).decode()


def v2(
    callfire: StandInCallFire,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    auth: str = AUTH,
) -> tuple[int, Any]:
    request = urllib.request.Request(
        callfire.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": auth, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            data = response.read()
            return response.status, json.loads(data) if data else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def webhook(name: str, resource: str = "OutboundCall", **fields: Any) -> dict[str, Any]:
    return {"name": name, "resource": resource, "events": ["Finished"], "callback": "x", **fields}


def test_the_v2_api_needs_basic_auth_with_the_api_credentials() -> None:
    with StandInCallFire() as callfire:
        status, answer = v2(callfire, "GET", "/v2/webhooks", auth="Basic d3Jvbmc6d3Jvbmc=")

    assert status == 401
    assert answer["httpStatusCode"] == 401


def test_webhooks_are_created_found_read_updated_and_deleted() -> None:
    with StandInCallFire() as callfire:
        created, first = v2(callfire, "POST", "/v2/webhooks", webhook("a", secret="s"))
        _, second = v2(callfire, "POST", "/v2/webhooks", webhook("b", "InboundText"))
        _, by_name = v2(callfire, "GET", "/v2/webhooks?name=a")
        _, by_resource = v2(callfire, "GET", "/v2/webhooks?resource=InboundText&event=finished")
        _, page = v2(callfire, "GET", "/v2/webhooks?limit=1&offset=1")
        _, read = v2(callfire, "GET", f"/v2/webhooks/{first['id']}")
        updated, _ = v2(callfire, "PUT", f"/v2/webhooks/{first['id']}", {"enabled": False})
        _, disabled = v2(callfire, "GET", "/v2/webhooks?enabled=false")
        deleted, _ = v2(callfire, "DELETE", f"/v2/webhooks/{first['id']}")
        gone, _ = v2(callfire, "GET", f"/v2/webhooks/{first['id']}")

    assert created == 201
    assert second["id"] == first["id"] + 1
    assert [item["name"] for item in by_name["items"]] == ["a"]
    assert [item["name"] for item in by_resource["items"]] == ["b"]
    assert (page["totalCount"], [item["name"] for item in page["items"]]) == (2, ["b"])
    assert (read["name"], read["enabled"]) == ("a", True)
    assert "secret" not in read
    assert updated == 200
    assert [item["name"] for item in disabled["items"]] == ["a"]
    assert (deleted, gone) == (204, 404)


def test_a_delivery_is_signed_with_each_webhook_s_secret() -> None:
    received: list[tuple[bytes, str | None]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers.get("X-CallFire-Signature")))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_: object) -> None:
            return

    with StandInCallFire() as callfire, BackgroundHttpServer(Receiver, "127.0.0.1", 0) as server:
        v2(callfire, "POST", "/v2/webhooks", webhook("on", secret="k1", callback=server.url))
        v2(callfire, "POST", "/v2/webhooks", webhook("off", callback=server.url, enabled=False))
        v2(callfire, "POST", "/v2/webhooks", webhook("text", "OutboundText", callback=server.url))
        sent = callfire.deliver("OutboundCall", "Finished", {"id": 1}, timestamp=5)

    ((body, signature),) = received
    assert [delivered.status for delivered in sent] == [200]
    assert signature == signature_of("k1", body)
    delivery = json.loads(body)
    assert (delivery["webhookName"], delivery["events"][0]["resource"]) == ("on", {"id": 1})


def test_v2_recordings_answer_their_state_and_their_mp3_once_ready() -> None:
    with StandInCallFire() as callfire:
        callfire.recording_states["2033"] = "RECORDING"
        _, recording = v2(callfire, "GET", "/v2/calls/recordings/2033")
        not_yet, _ = v2(callfire, "GET", "/v2/calls/recordings/2033.mp3")

    assert recording["state"] == "RECORDING"
    assert not_yet == 404
