"""department ratings (考核评价权): each township's yearly rating of a county department

Revision ID: 1b215144cfb7
Revises: 51b84a5d0ce0
Create Date: 2026-12-01 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1b215144cfb7"
down_revision = "51b84a5d0ce0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "department_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("township_org_id", sa.Integer(), nullable=False),
        sa.Column("department_org_id", sa.Integer(), nullable=False),
        sa.Column("responsiveness", sa.String(20), nullable=False),
        sa.Column("burden", sa.String(20), nullable=False),
        sa.Column("resources", sa.String(20), nullable=False),
        sa.Column("service", sa.String(20), nullable=False),
        sa.Column("overall", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["township_org_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["department_org_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
        sa.UniqueConstraint(
            "year", "township_org_id", "department_org_id", name="uq_department_rating"
        ),
    )
    op.create_index(
        "ix_department_rating_department_year",
        "department_rating",
        ["department_org_id", "year"],
    )


def downgrade() -> None:
    op.drop_index("ix_department_rating_department_year", table_name="department_rating")
    op.drop_table("department_rating")
