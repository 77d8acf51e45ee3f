"""Command-line tools for users of the receiver: query the stored reports (local or AWS)."""
