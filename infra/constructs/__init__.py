"""The stack's building blocks, one concern each."""
