"""inspections: each township's place in an approved inspection, and the visits announced

Revision ID: a1c3e5f7b9d2
Revises: f0b2d4e6a8c9
Create Date: 2026-12-01 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a1c3e5f7b9d2"
down_revision = "f0b2d4e6a8c9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("township_org_id", sa.Integer(), nullable=False),
        sa.Column("department_org_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("months", sa.String(40), nullable=False),
        sa.Column("out_of_plan", sa.Boolean(), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["township_org_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["department_org_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "township_org_id", name="uq_inspection_item_township"),
    )
    op.create_index("ix_inspection_item_instance_id", "inspection_item", ["instance_id"])
    op.create_index(
        "ix_inspection_item_township_year", "inspection_item", ["township_org_id", "year"]
    )
    op.create_index(
        "ix_inspection_item_department_year", "inspection_item", ["department_org_id", "year"]
    )
    op.create_table(
        "inspection_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("announced_by", sa.Integer(), nullable=False),
        sa.Column("announced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["inspection_item.id"]),
        sa.ForeignKeyConstraint(["announced_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inspection_visit_item_day", "inspection_visit", ["item_id", "held_on"])


def downgrade() -> None:
    op.drop_index("ix_inspection_visit_item_day", table_name="inspection_visit")
    op.drop_table("inspection_visit")
    for name in ("department_year", "township_year", "instance_id"):
        op.drop_index(f"ix_inspection_item_{name}", table_name="inspection_item")
    op.drop_table("inspection_item")
