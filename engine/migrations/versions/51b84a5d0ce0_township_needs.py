"""township needs (吹哨报到): each need as graded, routed, answered and rated

Revision ID: 51b84a5d0ce0
Revises: a1c3e5f7b9d2
Create Date: 2026-12-01 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "51b84a5d0ce0"
down_revision = "a1c3e5f7b9d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "township_need",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("township_org_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(20), nullable=False),
        sa.Column("lead_org_id", sa.Integer(), nullable=True),
        sa.Column("routed_at", sa.DateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_late", sa.Boolean(), nullable=False),
        sa.Column("times_answered", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(20), nullable=True),
        sa.Column("rated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["township_org_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["lead_org_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
    )
    op.create_index("ix_township_need_township_org_id", "township_need", ["township_org_id"])
    op.create_index("ix_township_need_lead_org_id", "township_need", ["lead_org_id"])
    op.create_table(
        "need_department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "org_id", name="uq_need_department"),
    )
    op.create_index("ix_need_department_org", "need_department", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_need_department_org", table_name="need_department")
    op.drop_table("need_department")
    op.drop_index("ix_township_need_lead_org_id", table_name="township_need")
    op.drop_index("ix_township_need_township_org_id", table_name="township_need")
    op.drop_table("township_need")
