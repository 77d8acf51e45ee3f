"""The redaction rules live in `functions.redaction` (shared with the webhook registration)."""

from functions.redaction import MASK, Redactor, excerpt

__all__ = ["MASK", "Redactor", "excerpt"]
