"""The policy evaluator the topic checks rely on follows the IAM rules it cites."""

from __future__ import annotations

import pytest

from tests.infra.iam_policy import (
    Principal,
    Request,
    Unsupported,
    condition_holds,
    evaluate,
)

TOPIC = "arn:aws:sns:us-east-1:111122223333:alarms"
ROLE = "arn:aws:iam::111122223333:role/publisher"
CLOUDWATCH = Principal(service="cloudwatch.amazonaws.com")
ALLOW_CLOUDWATCH = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:*"}
    },
}
DENY_PLAIN_HTTP = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def alarm_request(alarm_arn: str, *, tls: bool = True) -> Request:
    return Request(
        CLOUDWATCH, "sns:Publish", TOPIC, {"aws:SourceArn": alarm_arn, "aws:SecureTransport": tls}
    )


def test_an_allow_is_needed() -> None:
    request = alarm_request("arn:aws:cloudwatch:us-east-1:111122223333:alarm:A")

    assert not evaluate(request, resource_policy=[DENY_PLAIN_HTTP]).allowed
    assert evaluate(request, resource_policy=[DENY_PLAIN_HTTP, ALLOW_CLOUDWATCH]).allowed


def test_an_explicit_deny_wins() -> None:
    request = alarm_request("arn:aws:cloudwatch:us-east-1:111122223333:alarm:A", tls=False)

    decision = evaluate(request, resource_policy=[ALLOW_CLOUDWATCH, DENY_PLAIN_HTTP])

    assert not decision.allowed
    assert "explicit Deny" in decision.why


def test_arn_like_matches_part_by_part() -> None:
    policy = [ALLOW_CLOUDWATCH]

    assert not evaluate(
        alarm_request("arn:aws:cloudwatch:us-east-1:444455556666:alarm:A"), resource_policy=policy
    ).allowed
    assert not evaluate(
        alarm_request("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:A"), resource_policy=policy
    ).allowed


def test_within_one_account_either_policy_may_allow() -> None:
    request = Request(Principal(arn=ROLE), "sns:Publish", TOPIC, {"aws:SecureTransport": True})
    identity = [{"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC}]

    assert evaluate(request, resource_policy=[DENY_PLAIN_HTTP], identity_policy=identity).allowed
    assert not evaluate(request, resource_policy=[DENY_PLAIN_HTTP]).allowed


def test_an_account_principal_delegates_and_allows_nothing_by_itself() -> None:
    request = Request(Principal(arn=ROLE), "sns:Publish", TOPIC, {})
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "sns:Publish",
        "Resource": TOPIC,
    }

    assert not evaluate(request, resource_policy=[statement]).allowed


@pytest.mark.parametrize(
    ("operator", "context", "holds"),
    [
        ("StringEquals", {}, False),
        ("StringNotEquals", {}, True),
        ("StringEqualsIfExists", {}, True),
        ("StringEquals", {"k": "v"}, True),
        ("StringNotEquals", {"k": "v"}, False),
        ("StringLike", {"k": "value"}, False),
        ("Null", {}, False),
    ],
)
def test_an_absent_key_follows_the_documented_rule(
    operator: str, context: dict[str, str], holds: bool
) -> None:
    assert condition_holds(operator, "k", "v", context) is holds


def test_what_it_does_not_know_it_refuses_to_guess() -> None:
    with pytest.raises(Unsupported):
        condition_holds("NumericLessThan", "k", "1", {"k": "0"})
    with pytest.raises(Unsupported):
        condition_holds("ForAnyValue:StringLike", "k", "v", {"k": "v"})
