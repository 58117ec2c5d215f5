"""current deployment: the version new instances start on, one per process

Revision ID: a3c5e7f9b1d2
Revises: 5c1f0a7e2b94
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a3c5e7f9b1d2"
down_revision = "5c1f0a7e2b94"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN with a default (no batch copy of a table others reference).
    op.add_column(
        "deployment",
        sa.Column("is_current", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    # Until now the newest version was current: keep it so.
    op.execute(
        "UPDATE deployment SET is_current = true WHERE version = "
        "(SELECT max(newest.version) FROM deployment AS newest "
        "WHERE newest.process_id = deployment.process_id)"
    )
    op.create_index(
        "uq_deployment_current",
        "deployment",
        ["process_id"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )


def downgrade() -> None:
    op.drop_index("uq_deployment_current", table_name="deployment")
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("is_current")
