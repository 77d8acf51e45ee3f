"""Recording keys, extensions and content types: the pure rules."""

from __future__ import annotations

import pytest

from functions.recordings.jobs import RecordingJob
from functions.recordings.naming import (
    extension_for,
    key_stem,
    recording_key,
    refusal_for_content_type,
    stored_content_type,
)

URL = "https://www.callfire.com/cloud/1/files/recording/7"


@pytest.mark.parametrize(
    ("content_type", "url", "extension"),
    [
        ("audio/x-wav", URL, "wav"),
        ("audio/wav", URL + "/mp3", "wav"),
        ("Audio/MPEG; charset=binary", URL, "mp3"),
        ("audio/mp3", URL, "mp3"),
        ("application/octet-stream", URL + "/mp3", "mp3"),
        ("application/octet-stream", URL + "/mp3/", "mp3"),
        (None, "https://x.callfire.com/r/7.MP3?apikey=1", "mp3"),
        (None, URL, "wav"),
        ("", "https://x.callfire.com/r/7.wav", "wav"),
        ("audio/ogg", URL, "wav"),
    ],
)
def test_the_extension_comes_from_the_content_type_then_the_url(
    content_type: str | None, url: str, extension: str
) -> None:
    assert extension_for(content_type, url) == extension


def test_the_key_follows_the_briefs_layout() -> None:
    job = RecordingJob("111111", "call", "22222", 2, URL)

    assert recording_key(job, "mp3") == "recordings/22222/111111/2.mp3"


def test_a_report_without_a_campaign_lands_under_no_campaign() -> None:
    job = RecordingJob("111111", "call", None, 0, URL)

    assert recording_key(job, "wav") == "recordings/no-campaign/111111/0.wav"


@pytest.mark.parametrize(
    ("campaign_id", "call_id", "stem"),
    [
        ("../..", "x/../../y", "recordings/.._../x_.._.._y/0"),
        (" ", "..", "recordings/no-campaign/_/0"),
        ("22 22", "+1 (555)", "recordings/22_22/_1__555_/0"),
    ],
)
def test_ids_cannot_escape_or_collapse_the_layout(
    campaign_id: str, call_id: str, stem: str
) -> None:
    assert key_stem(RecordingJob(call_id, "call", campaign_id, 0, URL)) == stem


@pytest.mark.parametrize(
    "content_type",
    ["text/html; charset=utf-8", "application/json", "application/xml", "text/plain",
     "application/problem+json", "application/soap+xml"],
)  # fmt: skip
def test_error_pages_are_not_recordings(content_type: str) -> None:
    assert refusal_for_content_type(content_type) is not None


@pytest.mark.parametrize(
    "content_type", [None, "", "audio/x-wav", "audio/mpeg", "application/octet-stream"]
)
def test_audio_and_unknown_binaries_are_accepted(content_type: str | None) -> None:
    assert refusal_for_content_type(content_type) is None


def test_the_content_type_is_kept_as_received_or_named_after_the_extension() -> None:
    assert stored_content_type("audio/x-wav; rate=8000", "wav") == "audio/x-wav; rate=8000"
    assert stored_content_type(None, "mp3") == "audio/mpeg"
    assert stored_content_type(" \x00\n", "wav") == "audio/x-wav"
