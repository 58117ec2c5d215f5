"""Loading one Alembic migration script by its name, to test what it does to old data."""

from __future__ import annotations

import importlib.util

from engine import migrate


def revisions(suffix: str) -> tuple[str, str]:
    """(its revision, the one before it) of the migration whose file ends with `suffix`."""
    path = next((migrate.SCRIPTS / "versions").glob(f"*_{suffix}.py"))
    spec = importlib.util.spec_from_file_location(suffix, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.revision, module.down_revision
