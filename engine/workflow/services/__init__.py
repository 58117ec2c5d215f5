"""The core's use cases: one command, one transaction (start, complete, timers, versions)."""
