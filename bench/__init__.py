"""`make bench`: speed, size and cost, each measured beside its baseline in the same run."""
