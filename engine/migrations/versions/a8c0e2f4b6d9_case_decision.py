"""问责决定 on the case: its outcome, document number and date; the organ that verified it; what
an untrue report affected and until when a clearance proposal is due

Revision ID: a8c0e2f4b6d9
Revises: f7b9d1e3a5c8
Create Date: 2026-11-30 19:05:00.000000

Cases decided before this revision keep their status and have no decision recorded. The organ
that verified a concluded case is taken to be its handling organ (谁核实谁澄清).
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
        batch_op.add_column(sa.Column("verified_by_org_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_case_verified_by_org", "organization", ["verified_by_org_id"], ["id"]
        )
        batch_op.add_column(
            sa.Column("clearance_triggers", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("clearance_proposal_due", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("clearance_proposal_escalated_at", sa.DateTime(), nullable=True)
        )
    op.execute(
        "UPDATE accountability_case SET verified_by_org_id = handling_org_id WHERE finding != ''"
    )


def downgrade() -> None:
    with op.batch_alter_table("accountability_case", schema=None) as batch_op:
        batch_op.drop_column("clearance_proposal_escalated_at")
        batch_op.drop_column("clearance_proposal_due")
        batch_op.drop_column("clearance_triggers")
        batch_op.drop_constraint("fk_case_verified_by_org", type_="foreignkey")
        batch_op.drop_column("verified_by_org_id")
        batch_op.drop_column("decided_on")
        batch_op.drop_column("decision_no")
        batch_op.drop_column("decision_outcome")
