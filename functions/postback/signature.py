"""CallFire's v2 webhook signature: `X-CallFire-Signature` is base64(HMAC-SHA1(secret, body)),
computed over the body's bytes exactly as they arrived, and compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac


def signature_of(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(secret: str, body: bytes, presented: str | None) -> bool:
    """Whether `presented` is the signature of `body` under `secret`. The comparison takes the
    same time wherever the first difference lies (hmac.compare_digest)."""
    if not presented or not secret:
        return False
    expected = signature_of(secret, body).encode("ascii")
    return hmac.compare_digest(expected, presented.strip().encode("utf-8", "replace"))
