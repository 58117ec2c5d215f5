"""reminders before a step's deadline: when a step was reminded, and the index the worker reads

Revision ID: d9f2b6c8e0a4
Revises: c4e8a1f3d5b7
Create Date: 2026-11-30 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d9f2b6c8e0a4"
down_revision = "c4e8a1f3d5b7"
branch_labels = None
depends_on = None

OPEN_UNREMINDED = "state = 'open' AND reminded_at IS NULL"


def upgrade() -> None:
    op.add_column("task", sa.Column("reminded_at", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_task_open_due",
        "task",
        ["due_at"],
        postgresql_where=sa.text(OPEN_UNREMINDED),
        sqlite_where=sa.text(OPEN_UNREMINDED),
    )


def downgrade() -> None:
    op.drop_index("ix_task_open_due", table_name="task")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
