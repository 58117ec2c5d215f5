"""task county: a county office's inbox reads its county's open tasks along one index

A county office's inbox walked every open task of its role, oldest first, and looked up each
one's instance to keep its county's. With a city's ten counties in one database that was ten
lookups per task shown, each on another page: 160 ms at 1.7 million matters. Each task now
carries its instance's county, and the open-task index leads with it; a city office's own
queue (no county) has an index of its own, since PostgreSQL reads `county_id IS NULL` off the
first index but then sorts.

On PostgreSQL the backfill rewrites every task row inside the upgrade's transaction, which
holds the table until it ends: at ten million matters (50 million task rows) on a two-core
machine one measurement took 15.5 minutes (the key then added first, and a test run sharing
the machine). Plan it as downtime, and vacuum the table afterwards.

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
OPEN_CITY = "state = 'open' AND county_id IS NULL"


def upgrade() -> None:
    # The column, then its values, then the key: a key added first would be checked row by row
    # during the backfill (50 million rows at ten million matters); added after, in one pass.
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("county_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE task SET county_id = "
        "(SELECT county_id FROM instance WHERE instance.id = task.instance_id)"
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_task_county", "organization", ["county_id"], ["id"])
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
        batch_op.create_index(
            "ix_task_open_city_role",
            ["role", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text(OPEN_CITY),
            sqlite_where=sa.text(OPEN_CITY),
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_task_open_city_role",
            postgresql_where=sa.text(OPEN_CITY),
            sqlite_where=sa.text(OPEN_CITY),
        )
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
