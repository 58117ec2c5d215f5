"""Use cases on duty lists and the pre-check of an application."""
