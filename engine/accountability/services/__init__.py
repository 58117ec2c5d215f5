"""Use cases on accountability cases and their procedures."""
