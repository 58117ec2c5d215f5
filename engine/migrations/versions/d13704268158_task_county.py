"""task county: a county office's inbox reads its county's open tasks along one index

A county office's inbox walked every open task of its role, oldest first, and looked up each
one's instance to keep its county's. With a city's ten counties in one database that was ten
lookups per task shown, each on another page: 160 ms at 1.7 million matters. Each task now
carries its instance's county, and the open-task index leads with it.

Revision ID: d13704268158
Revises: ecb86d257eed
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d13704268158"
down_revision = "ecb86d257eed"
branch_labels = None
depends_on = None

OPEN = "state = 'open'"


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("county_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_task_county", "organization", ["county_id"], ["id"])
    op.execute(
        "UPDATE task SET county_id = "
        "(SELECT county_id FROM instance WHERE instance.id = task.instance_id)"
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_task_open_role", postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN)
        )
        batch_op.create_index(
            "ix_task_open_county_role",
            ["county_id", "role", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_task_open_county_role", postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN)
        )
        batch_op.create_index(
            "ix_task_open_role",
            ["role", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
        batch_op.drop_constraint("fk_task_county", type_="foreignkey")
        batch_op.drop_column("county_id")
