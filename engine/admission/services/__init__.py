"""The admission domain's use cases and what it registers in the process table."""
