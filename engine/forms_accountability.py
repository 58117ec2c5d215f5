"""Forms of the accountability procedures (fault_tolerance, clearance): see docs/accountability.md."""

from __future__ import annotations

from engine.forms import Form

START: dict[str, Form] = {}
TASKS: dict[str, Form] = {}
