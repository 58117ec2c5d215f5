"""report forms (报表): forms approved through the gate, who fills and reads them, what was filled

Revision ID: b5463a77657c
Revises: 1b215144cfb7
Create Date: 2026-12-01 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b5463a77657c"
down_revision = "1b215144cfb7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_form",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("frequency", sa.String(20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["owner_org_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
    )
    op.create_index("ix_report_form_owner_org_id", "report_form", ["owner_org_id"])
    op.create_table(
        "report_form_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["report_form.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_id", "org_id", "part", name="uq_report_form_party"),
    )
    op.create_index("ix_report_form_party_org", "report_form_party", ["org_id"])
    op.create_table(
        "report_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("township_org_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["report_form.id"]),
        sa.ForeignKeyConstraint(["township_org_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["submitted_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_id", "township_org_id", "period", name="uq_report_submission"),
    )
    op.create_index("ix_report_submission_form_id", "report_submission", ["form_id"])


def downgrade() -> None:
    op.drop_index("ix_report_submission_form_id", table_name="report_submission")
    op.drop_table("report_submission")
    op.drop_index("ix_report_form_party_org", table_name="report_form_party")
    op.drop_table("report_form_party")
    op.drop_index("ix_report_form_owner_org_id", table_name="report_form")
    op.drop_table("report_form")
