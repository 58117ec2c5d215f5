"""matter ratings: a township rates the department behind each admitted matter

Revision ID: 5107c3958029
Revises: 85b12a9602f2
Create Date: 2026-12-01 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5107c3958029"
down_revision = "85b12a9602f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matter_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_instance_id", sa.Integer(), nullable=False),
        sa.Column("township_org_id", sa.Integer(), nullable=False),
        sa.Column("department_org_id", sa.Integer(), nullable=False),
        sa.Column("overall", sa.String(20), nullable=False),
        sa.Column("resources", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_by", sa.Integer(), nullable=False),
        sa.Column("rated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["matter_instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["township_org_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["department_org_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["rated_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("matter_instance_id", "township_org_id", name="uq_matter_rating"),
    )
    op.create_index(
        "ix_matter_rating_department_rated", "matter_rating", ["department_org_id", "rated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_matter_rating_department_rated", table_name="matter_rating")
    op.drop_table("matter_rating")
