"""Granting access to a Secrets Manager secret the stack does not own."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager


def secret_policy_arn(secret: secretsmanager.ISecret) -> str:
    """The ARN to grant: a secret imported by name has no full ARN, so match its random suffix."""
    return secret.secret_full_arn or f"{secret.secret_arn}-??????"
