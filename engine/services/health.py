"""Liveness: the service answers and its database does."""

from __future__ import annotations

from sqlalchemy import select

from engine.workflow.context import Context


def check(ctx: Context) -> dict[str, str]:
    """Raises if the database cannot be reached."""
    with ctx.db.read() as session:
        session.execute(select(1))
    return {"status": "ok", "database": ctx.db.engine.dialect.name}
