"""required meetings: each township's place at an approved county meeting

Revision ID: f0b2d4e6a8c9
Revises: e8a0c2d4f6b7
Create Date: 2026-12-01 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f0b2d4e6a8c9"
down_revision = "e8a0c2d4f6b7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "required_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("township_org_id", sa.Integer(), nullable=False),
        sa.Column("organiser_org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.String(5), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("attendees", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("video_request", sa.Text(), nullable=True),
        sa.Column("video_requested_at", sa.DateTime(), nullable=True),
        sa.Column("video_answer", sa.String(20), nullable=True),
        sa.Column("video_answered_at", sa.DateTime(), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["township_org_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["organiser_org_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "township_org_id", name="uq_required_meeting_township"),
    )
    op.create_index("ix_required_meeting_instance_id", "required_meeting", ["instance_id"])
    op.create_index(
        "ix_required_meeting_township_day", "required_meeting", ["township_org_id", "held_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_required_meeting_township_day", table_name="required_meeting")
    op.drop_index("ix_required_meeting_instance_id", table_name="required_meeting")
    op.drop_table("required_meeting")
