"""What to subscribe and how to ask CallFire for it: the request the custom resource's properties
describe, its endpoints, the postback URL with its token and the form CallFire expects."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from functions.names import CallfireApi, Route, SubscriptionResource

PHYSICAL_ID_PREFIX = "callfire-subscription-"
_WEB_SCHEMES = {"http", "https"}


class InvalidProperties(ValueError):
    """The custom resource's properties cannot describe a subscription. The message names what is
    wrong; the properties hold no secret, so it may quote them."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One subscription: call or campaign reports, for the account or for one campaign."""

    kind: str
    campaign_id: str | None = None

    @property
    def path(self) -> str:
        suffix = f"/{self.campaign_id}" if self.campaign_id else ""
        return f"{CallfireApi.REPORT_CALLBACKS}/{self.kind}{suffix}"

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path

    def __str__(self) -> str:
        scope = f"campaign {self.campaign_id}" if self.campaign_id else "account-wide"
        return f"{self.kind} ({scope})"


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    postback_url: str
    """The stack's postback URL, without its token."""
    base_url: str
    campaign_ids: tuple[str, ...]
    api_key_secret_arn: str
    token_secret_arn: str

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return endpoints_for(self.campaign_ids)


def endpoints_for(campaign_ids: Sequence[str]) -> tuple[Endpoint, ...]:
    """Account-wide call and campaign reports, or both kinds for each campaign."""
    kinds = (CallfireApi.CALL_FINISH, CallfireApi.CAMPAIGN_FINISH)
    if not campaign_ids:
        return tuple(Endpoint(kind) for kind in kinds)
    return tuple(Endpoint(kind, campaign_id) for campaign_id in campaign_ids for kind in kinds)


def request_from(properties: Mapping[str, Any]) -> SubscriptionRequest:
    """The subscription the properties describe. Raises InvalidProperties."""
    return SubscriptionRequest(
        postback_url=_web_url(properties, SubscriptionResource.POSTBACK_URL),
        base_url=_web_url(properties, SubscriptionResource.CALLFIRE_BASE_URL).rstrip("/"),
        campaign_ids=_campaign_ids(properties.get(SubscriptionResource.CAMPAIGN_IDS)),
        api_key_secret_arn=_required(properties, SubscriptionResource.API_KEY_SECRET_ARN),
        token_secret_arn=_required(properties, SubscriptionResource.TOKEN_SECRET_ARN),
    )


def with_token(postback_url: str, token: str) -> str:
    """The URL CallFire posts to: the postback URL with `?token=` and the token."""
    parts = urlsplit(postback_url)
    parameter = urlencode({Route.TOKEN_PARAMETER: token})
    query = f"{parts.query}&{parameter}" if parts.query else parameter
    return urlunsplit(parts._replace(query=query))


def subscription_form(api_key: str, post_url: str) -> bytes:
    """The `application/x-www-form-urlencoded` body of a subscription request."""
    return urlencode(
        {CallfireApi.API_KEY_FIELD: api_key, CallfireApi.POST_URL_FIELD: post_url}
    ).encode("ascii")


def physical_id(postback_url: str) -> str:
    """The id a subscription keeps for its life: derived from the URL it was created for."""
    digest = hashlib.sha256(postback_url.encode("utf-8")).hexdigest()[:16]
    return PHYSICAL_ID_PREFIX + digest


def _required(properties: Mapping[str, Any], name: str) -> str:
    value = properties.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidProperties(f"the custom resource property {name} is missing or empty")
    return value.strip()


def _web_url(properties: Mapping[str, Any], name: str) -> str:
    value = _required(properties, name)
    parts = urlsplit(value)
    if parts.scheme not in _WEB_SCHEMES or not parts.hostname:
        raise InvalidProperties(f"the custom resource property {name} is not an http(s) URL")
    return value


def _campaign_ids(value: Any) -> tuple[str, ...]:
    """A list (as CloudFormation passes it) or a comma-separated string, in order, once each."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise InvalidProperties(
            f"the custom resource property {SubscriptionResource.CAMPAIGN_IDS} is not a list"
        )
    ids = [str(item).strip() for item in items if str(item).strip()]
    for campaign_id in ids:
        if not (campaign_id.isascii() and campaign_id.isdigit()):
            raise InvalidProperties(
                f"{SubscriptionResource.CAMPAIGN_IDS} holds a non-numeric campaign id: "
                f"{campaign_id[:40]!r}"
            )
    return tuple(dict.fromkeys(ids))
