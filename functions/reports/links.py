"""What ties a stored or archived report to a person and to other reports, for finding it again
when someone asks to be forgotten: the phone numbers it names, its call id and campaign id.

Phone numbers are compared in one canonical form (CallFire writes `2132212289` in legacy reports
and `12132212289` in v2 webhooks) and leave this module only as keyed hashes: the archive index
and the erasure audit never hold a number. Pure: no AWS.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from functions.names import NUMBER_ATTRIBUTES, CallAttribute, CampaignAttribute
from functions.reports.items import ReportItem, Table

HASH_CHARS = 32
"""128 bits of a SHA-256: collisions are out of reach, and a marker key stays short."""
NANP_DIGITS = 10
"""A North American number without its country code (`2132212289`)."""


class LinkKind(StrEnum):
    PHONE = "phone"
    CALL = "call"
    CAMPAIGN = "campaign"


def phone_digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def canonical_phone(number: str) -> str:
    """Digits only, with the North American country code: `(213) 221-2289`, `2132212289`,
    `+1 213 221 2289` and `12132212289` are one number. Short codes and other countries' numbers
    are their digits."""
    digits = phone_digits(number)
    if len(digits) == NANP_DIGITS:
        return "1" + digits
    return digits or number.strip()


def phone_variants(number: str) -> tuple[str, ...]:
    """Every way CallFire may have written `number` in an item: as given, its digits, with and
    without the country code, with `+`."""
    canonical = canonical_phone(number)
    found = [number.strip(), phone_digits(number), canonical, f"+{canonical}"]
    if len(canonical) == NANP_DIGITS + 1 and canonical.startswith("1"):
        found.append(canonical[1:])
    return tuple(dict.fromkeys(value for value in found if value))


def keyed_hash(salt: str, kind: LinkKind, value: str) -> str:
    """A hash of `value` that only the holder of `salt` can compute: phone numbers are few
    enough (10^10) for a plain hash to be reversed by trying them all."""
    message = f"{kind}:{value}".encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()[:HASH_CHARS]


def id_hash(kind: LinkKind, value: str) -> str:
    """A fixed-length, key-safe name for a call or campaign id (not personal data; no salt)."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:HASH_CHARS]


@dataclass(frozen=True, slots=True)
class ReportLinks:
    phone_numbers: tuple[str, ...] = ()
    call_id: str | None = None
    campaign_id: str | None = None

    def names(self, salt: str | None) -> list[str]:
        """`<kind>/<hash>` for each link: the archive index's folders. Without a salt, the phone
        numbers are left out (nothing else may stand in for their keyed hash)."""
        found = []
        if salt is not None:
            found += [phone_link(salt, number) for number in self.phone_numbers]
        if self.call_id:
            found.append(call_link(self.call_id))
        if self.campaign_id:
            found.append(campaign_link(self.campaign_id))
        return list(dict.fromkeys(found))


class Links(Protocol):
    """What an archived body is indexed by: `<kind>/<hash>` names (ReportLinks, LinkSet)."""

    def names(self, salt: str | None) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class LinkSet:
    """The links of every report in one body (a v2 delivery of several events): the archived
    body belongs to each of them."""

    members: tuple[ReportLinks, ...] = ()

    def names(self, salt: str | None) -> list[str]:
        return list(dict.fromkeys(name for links in self.members for name in links.names(salt)))


def phone_link(salt: str, number: str) -> str:
    return f"{LinkKind.PHONE}/{keyed_hash(salt, LinkKind.PHONE, canonical_phone(number))}"


def call_link(call_id: str) -> str:
    return f"{LinkKind.CALL}/{id_hash(LinkKind.CALL, call_id)}"


def campaign_link(campaign_id: str) -> str:
    return f"{LinkKind.CAMPAIGN}/{id_hash(LinkKind.CAMPAIGN, campaign_id)}"


def links_of(item: ReportItem) -> ReportLinks:
    """The links of an item of any format: read by attribute name, not by report type."""
    attributes: Mapping[str, Any] = item.attributes
    if item.table is Table.CAMPAIGNS:
        return ReportLinks(campaign_id=_text(attributes.get(CampaignAttribute.CAMPAIGN_ID)))
    numbers = tuple(
        value for name in NUMBER_ATTRIBUTES if (value := _text(attributes.get(name))) is not None
    )
    return ReportLinks(
        phone_numbers=numbers,
        call_id=_text(attributes.get(CallAttribute.CALL_ID)),
        campaign_id=_text(attributes.get(CallAttribute.CAMPAIGN_ID)),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
