"""A small IAM policy evaluator: enough of AWS's rules to say whether one request is allowed.

What it follows (IAM User Guide):
- "Policy evaluation logic" (reference_policies_evaluation-logic.html): an explicit Deny in any
  policy wins; without an Allow the request is implicitly denied. Within one account, "if either
  the identity-based policy or the resource-based policy ... allows the request and the other
  doesn't, the request is still allowed" (reference_policies_evaluation-logic_policy-eval-basics).
- "Condition operators" (reference_policies_elements_condition_operators.html): operators in a
  Condition are ANDed, keys of one operator are ANDed, values of one key are ORed (NORed for a
  negated operator); a key absent from the request context makes the condition false, except for
  negated operators (true), `...IfExists` (true) and `Null`.
- Principals: an account's root ARN (or its bare id) in a resource policy delegates to that
  account's identity policies and allows nothing by itself.

Anything it does not understand (an operator, a set operator, a principal form) raises
`Unsupported`, so a check built on it fails instead of passing by accident.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Statement = Mapping[str, Any]


class Unsupported(ValueError):
    """The policy uses something this evaluator does not implement."""


@dataclass(frozen=True)
class Principal:
    """Who makes the request: a service (`cloudwatch.amazonaws.com`) or an IAM ARN."""

    service: str | None = None
    arn: str | None = None
    account: str | None = None

    def __str__(self) -> str:
        return self.service or self.arn or "anonymous"


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str
    context: Mapping[str, str | bool] = field(default_factory=dict)
    """The request context's condition keys (`aws:SourceArn`, `aws:SecureTransport`, ...)."""


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    translated = "".join("[[]" if c == "[" else c for c in pattern)
    if ignore_case:
        return fnmatch.fnmatchcase(value.lower(), translated.lower())
    return fnmatch.fnmatchcase(value, translated)


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: the six colon-separated parts matched one by one, each with wildcards."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(_like(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


_MATCHERS = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringEqualsIgnoreCase": lambda expected, actual: expected.lower() == actual.lower(),
    "StringLike": _like,
    "ArnEquals": lambda expected, actual: expected == actual,
    "ArnLike": _arn_like,
    "Bool": lambda expected, actual: expected.lower() == actual.lower(),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _text(value: str | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def condition_holds(operator: str, key: str, values: Any, context: Mapping[str, Any]) -> bool:
    """One key of one condition operator, evaluated on the request context."""
    if operator.startswith(("ForAnyValue:", "ForAllValues:")):
        raise Unsupported(f"set operator {operator}")
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    present = key in context
    if base == "Null":
        if if_exists:
            raise Unsupported("NullIfExists")
        return any(_text(v) == ("false" if present else "true") for v in as_list(values))
    if base in _NEGATED:
        if not present:
            return True
        matcher = _MATCHERS[_NEGATED[base]]
        return not any(matcher(_text(v), _text(context[key])) for v in as_list(values))
    if base not in _MATCHERS:
        raise Unsupported(f"condition operator {operator}")
    if not present:
        return if_exists
    return any(_MATCHERS[base](_text(v), _text(context[key])) for v in as_list(values))


def conditions_hold(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    return all(
        condition_holds(operator, key, values, context)
        for operator, keys in condition.items()
        for key, values in keys.items()
    )


def _principal_matches(
    statement: Statement, principal: Principal, *, resource_policy: bool
) -> bool:
    if not resource_policy:
        if "Principal" in statement or "NotPrincipal" in statement:
            raise Unsupported("a principal in an identity policy")
        return True
    if "NotPrincipal" in statement:
        raise Unsupported("NotPrincipal")
    named = statement.get("Principal")
    if named == "*":
        return True
    if not isinstance(named, Mapping) or set(named) - {"Service", "AWS"}:
        raise Unsupported(f"principal {named!r}")
    services = as_list(named.get("Service", []))
    accounts_or_arns = as_list(named.get("AWS", []))
    # An account (its id or root ARN) delegates to the account's identity policies: it allows
    # nothing by itself, so it matches no principal here.
    return principal.service in services or any(
        value == "*" or (value == principal.arn and not _is_account(value))
        for value in accounts_or_arns
    )


def _is_account(value: str) -> bool:
    return value.isdigit() or (value.startswith("arn:") and value.endswith(":root"))


def _action_matches(statement: Statement, action: str) -> bool:
    if "NotAction" in statement:
        return not any(_like(a, action, ignore_case=True) for a in as_list(statement["NotAction"]))
    return any(_like(a, action, ignore_case=True) for a in as_list(statement["Action"]))


def _resource_matches(statement: Statement, resource: str) -> bool:
    if "NotResource" in statement:
        return not any(_like(r, resource) for r in as_list(statement["NotResource"]))
    return any(_like(r, resource) for r in as_list(statement.get("Resource", "*")))


def statement_applies(statement: Statement, request: Request, *, resource_policy: bool) -> bool:
    return (
        _principal_matches(statement, request.principal, resource_policy=resource_policy)
        and _action_matches(statement, request.action)
        and _resource_matches(statement, request.resource)
        and conditions_hold(statement.get("Condition", {}), request.context)
    )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    why: str


def evaluate(
    request: Request,
    *,
    resource_policy: Sequence[Statement] = (),
    identity_policy: Iterable[Statement] = (),
) -> Decision:
    """AWS's decision for a request inside one account: explicit Deny wins, then any Allow from
    the resource policy or the principal's identity policies, else an implicit deny."""
    applying = [
        (statement, source)
        for source, statements, is_resource in (
            ("resource policy", resource_policy, True),
            ("identity policy", identity_policy, False),
        )
        for statement in statements
        if statement_applies(statement, request, resource_policy=is_resource)
    ]
    for statement, source in applying:
        if statement["Effect"] == "Deny":
            return Decision(False, f"explicit Deny in the {source}: {statement.get('Sid', '')}")
    for statement, source in applying:
        if statement["Effect"] == "Allow":
            return Decision(True, f"allowed by the {source}: {statement.get('Sid', '')}")
    return Decision(False, "no statement allows it (implicit deny)")
