"""The control plane for tests: reset, clock, and (growing) everything a CI suite steers."""
