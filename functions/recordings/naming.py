"""Where a recording lands in the bucket and what it is called: pure rules, no I/O.

`recordings/<campaignId>/<callId>/<n>.<wav|mp3>`: `n` is the recording's index in the call item's
`recordings` list; a report without a campaign id lands under `no-campaign`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from functions.names import NO_CAMPAIGN, Prefix
from functions.recordings.jobs import RecordingJob

WAV = "wav"
MP3 = "mp3"
CANONICAL_TYPES = {WAV: "audio/x-wav", MP3: "audio/mpeg"}
_MP3_TYPES = {"audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg", "audio/x-mpeg-3"}
_WAV_TYPES = {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "audio/x-pn-wav"}
_NOT_RECORDINGS = ("text/", "application/json", "application/xml", "application/xhtml+xml")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def media_type(content_type: str | None) -> str:
    """`audio/x-wav` from `Audio/X-WAV; charset=binary`; empty when absent."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def refusal_for_content_type(content_type: str | None) -> str | None:
    """Why a response with this content type is not a recording (an error or login page answered
    with 200), or None. Audio, `application/octet-stream` and no type at all are accepted."""
    kind = media_type(content_type)
    if kind.startswith(_NOT_RECORDINGS) or kind.endswith(("+json", "+xml")):
        return f"the answer is {kind}, not a recording"
    return None


def extension_for(content_type: str | None, url: str) -> str:
    """`mp3` or `wav`: from the content type when it names one, else from the URL (CallFire serves
    MP3 under `.../mp3`), else `wav`, the format of CallFire's legacy recordings."""
    kind = media_type(content_type)
    if kind in _MP3_TYPES:
        return MP3
    if kind in _WAV_TYPES:
        return WAV
    path = urlsplit(url).path.lower().rstrip("/")
    if path.endswith((".mp3", "/mp3")):
        return MP3
    return WAV


def stored_content_type(content_type: str | None, extension: str) -> str:
    """The response's content type as received (printable ASCII, bounded), or the extension's own
    when the response named none."""
    text = "".join(ch for ch in (content_type or "").strip() if " " <= ch <= "~")[:255]
    return text or CANONICAL_TYPES[extension]


def key_segment(value: str | None, placeholder: str) -> str:
    """An id as one safe key segment: unusual characters become `_`; `.`, `..` and empty ids
    cannot climb or collapse the layout."""
    text = _UNSAFE.sub("_", (value or "").strip())[:128]
    return placeholder if not text or set(text) == {"."} else text


def key_stem(job: RecordingJob) -> str:
    """The key without its extension: `recordings/<campaignId>/<callId>/<n>`."""
    campaign = key_segment(job.campaign_id, NO_CAMPAIGN)
    call = key_segment(job.call_id, "_")
    return f"{Prefix.RECORDINGS}{campaign}/{call}/{job.index}"


def recording_key(job: RecordingJob, extension: str) -> str:
    return f"{key_stem(job)}.{extension}"
