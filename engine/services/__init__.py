"""Use cases: each one function, one transaction — the core's and the domains'."""
