"""deployment packages and governed activation: package files, who activated, and when

Revision ID: b7d2e4f6a8c1
Revises: a3c5e7f9b1d2
Create Date: 2026-11-30 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b7d2e4f6a8c1"
down_revision = "a3c5e7f9b1d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy of a table instances reference).
    op.add_column("deployment", sa.Column("files", sa.JSON(), nullable=True))
    op.add_column("deployment", sa.Column("activated_at", sa.DateTime(), nullable=True))
    # SQLite cannot add a foreign key through ALTER (alembic refuses), but it takes one
    # inline in ADD COLUMN; PostgreSQL takes the same statement with the constraint's name.
    op.execute(
        "ALTER TABLE deployment ADD COLUMN activated_by INTEGER "
        "CONSTRAINT fk_deployment_activated_by REFERENCES user_account (id)"
    )
    # Until now deploying made a version current at once: every stored version was active once.
    op.execute("UPDATE deployment SET activated_at = deployed_at, activated_by = deployed_by")


def downgrade() -> None:
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("activated_by")
        batch_op.drop_column("activated_at")
        batch_op.drop_column("files")
