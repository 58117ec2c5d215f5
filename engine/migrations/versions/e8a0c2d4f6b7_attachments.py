"""attachments: files uploaded by people and attached to instances with a step

Revision ID: e8a0c2d4f6b7
Revises: d6f8b0c2e4a5
Create Date: 2026-12-01 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e8a0c2d4f6b7"
down_revision = "d6f8b0c2e4a5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("task", sa.String(100), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploader_org_id", sa.Integer(), nullable=False),
        sa.Column("attached_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["uploaded_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["uploader_org_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachment_instance_id", "attachment", ["instance_id"])
    op.create_index("ix_attachment_uploaded_by", "attachment", ["uploaded_by"])


def downgrade() -> None:
    op.drop_index("ix_attachment_uploaded_by", table_name="attachment")
    op.drop_index("ix_attachment_instance_id", table_name="attachment")
    op.drop_table("attachment")
