"""Auditors' use cases on the whole trail: verify, seal, export, search."""
