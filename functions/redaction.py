"""Keeping secrets (API keys, tokens, credentials, the webhook secret) out of everything a function
says: log lines, error messages, CallFire's own description and anything else it echoes."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


class Redactor:
    """Replaces each secret, as is and in the forms a URL, a form body or XML would carry it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms.update(_encodings(secret))
        self._pattern = (
            re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)))
            if forms
            else None
        )

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text


def _encodings(secret: str) -> set[str]:
    encoded = {quote(secret, safe=""), quote_plus(secret)}
    lower_hex = {_PERCENT_ESCAPE.sub(lambda m: m.group(0).lower(), form) for form in encoded}
    return {secret, html.escape(secret), html.escape(secret, quote=False)} | encoded | lower_hex


def excerpt(text: str, limit: int = 200) -> str:
    """`text` on one line, printable characters only, at most `limit` of them."""
    flat = " ".join(text.split())
    shown = "".join(ch if ch.isprintable() else "?" for ch in flat)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
