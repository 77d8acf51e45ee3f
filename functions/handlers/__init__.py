"""The Lambda entry points: each turns its event into a call of its service (assembled in
`functions.wiring`) and the outcome into the answer, log keys and metrics."""
