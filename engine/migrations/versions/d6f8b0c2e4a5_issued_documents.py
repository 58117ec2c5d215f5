"""documents issued on instances (文书), each numbered per county, kind and year

Revision ID: d6f8b0c2e4a5
Revises: c4e6a8b0d2f3
Create Date: 2026-11-30 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d6f8b0c2e4a5"
down_revision = "c4e6a8b0d2f3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("issuer_org_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["issued_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["issuer_org_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "kind", name="uq_issued_document_instance_kind"),
    )
    op.create_index("ix_issued_document_instance_id", "issued_document", ["instance_id"])


def downgrade() -> None:
    op.drop_index("ix_issued_document_instance_id", table_name="issued_document")
    op.drop_table("issued_document")
