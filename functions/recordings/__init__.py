"""Recording copy jobs: queued by the postback function, consumed by the recordings function."""
