"""township link created: a township's matters, newest first, off one index

A township's search listed the newest matters of the whole database and probed each for the
township's link: in a city of ten counties, where a township's matters are 1 in 29, that was
about 740 probes for a page of 20. Each link now carries its instance's creation time (which
never changes), and `(org_id, created_at, instance_id)` lists a township's matters in the
order a search shows them.

On PostgreSQL the backfill rewrites every link row inside the upgrade's transaction: column,
backfill and index took 25 s for 1.75 million links (a million matters in a city) on a
two-core machine with a test run sharing it. Plan it as downtime at ten million matters
(18 million links), and vacuum the table afterwards.

Revision ID: dafe93090937
Revises: d13704268158
Create Date: 2026-12-02 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "dafe93090937"
down_revision = "d13704268158"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instance_township", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
    # A link to no instance (possible only in a SQLite file written before its foreign keys
    # were enforced) addresses nothing any read can show, and would have no time to take.
    op.execute(
        "DELETE FROM instance_township WHERE NOT EXISTS "
        "(SELECT 1 FROM instance WHERE instance.id = instance_township.instance_id)"
    )
    op.execute(
        "UPDATE instance_township SET created_at = "
        "(SELECT created_at FROM instance WHERE instance.id = instance_township.instance_id)"
    )
    with op.batch_alter_table("instance_township", schema=None) as batch_op:
        batch_op.alter_column("created_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index(
            "ix_instance_township_org_created", ["org_id", "created_at", "instance_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("instance_township", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_township_org_created")
        batch_op.drop_column("created_at")
