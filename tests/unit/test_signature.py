"""CallFire's webhook signature: the published test vector, and a signature over other bytes."""

from __future__ import annotations

import pytest

from functions.postback.signature import signature_matches, signature_of

VECTOR_BODY = b'{"name":"test webhook", "callback":"sms:callfire"}'
VECTOR_SECRET = "mysecrets"
VECTOR_SIGNATURE = "v14pF7d5C1+CHNIEWlg+sw9v0Xg="


def test_the_published_test_vector() -> None:
    assert signature_of(VECTOR_SECRET, VECTOR_BODY) == VECTOR_SIGNATURE
    assert signature_matches(VECTOR_SECRET, VECTOR_BODY, VECTOR_SIGNATURE)


def test_surrounding_white_space_in_the_header_is_ignored() -> None:
    assert signature_matches(VECTOR_SECRET, VECTOR_BODY, f" {VECTOR_SIGNATURE}\t")


@pytest.mark.parametrize(
    "body",
    [
        b'{"name":"test webhook","callback":"sms:callfire"}',  # the space after the comma gone
        VECTOR_BODY + b"\n",
        VECTOR_BODY.replace(b"test", b"Test"),
        b"",
    ],
)
def test_a_signature_over_other_bytes_does_not_match(body: bytes) -> None:
    assert not signature_matches(VECTOR_SECRET, body, VECTOR_SIGNATURE)


@pytest.mark.parametrize(
    "presented",
    [
        None,
        "",
        VECTOR_SIGNATURE[:-1],
        VECTOR_SIGNATURE + "=",
        VECTOR_SIGNATURE.lower(),
        "bf5e2917b7790b5f821cd2045a583eb30f6fd178",  # the hex digest: not what CallFire sends
        "v14pF7d5C1+CHNIEWlg+sw9v0Xg=é",
    ],
)
def test_anything_but_the_exact_signature_does_not_match(presented: str | None) -> None:
    assert not signature_matches(VECTOR_SECRET, VECTOR_BODY, presented)


def test_another_secret_does_not_match() -> None:
    assert not signature_matches("mysecret", VECTOR_BODY, VECTOR_SIGNATURE)


def test_an_empty_secret_matches_nothing() -> None:
    assert not signature_matches("", VECTOR_BODY, signature_of("", VECTOR_BODY))
