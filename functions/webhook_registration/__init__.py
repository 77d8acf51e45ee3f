"""The stack's CallFire v2 webhooks: which it keeps, creating, updating and deleting them (the
registration custom resource), and checking (and repairing) them on a schedule (webhook health)."""
