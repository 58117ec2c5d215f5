"""问责决定 on the case: its outcome, document number and date

Revision ID: a8c0e2f4b6d9
Revises: f7b9d1e3a5c8
Create Date: 2026-11-30 19:05:00.000000

Cases decided before this revision keep their status and have no decision recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a8c0e2f4b6d9"
down_revision = "f7b9d1e3a5c8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accountability_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_outcome", sa.String(30), nullable=True))
        batch_op.add_column(
            sa.Column("decision_no", sa.String(100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("decided_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accountability_case", schema=None) as batch_op:
        batch_op.drop_column("decided_on")
        batch_op.drop_column("decision_no")
        batch_op.drop_column("decision_outcome")
