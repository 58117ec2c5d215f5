"""notices by e-mail and webhook: people's addresses, the outbox the worker sends from

Revision ID: f7b9d1e3a5c8
Revises: e5a7c9d1f3b6
Create Date: 2026-11-30 18:40:00.000000

Notices written before this revision count as dispatched: turning a channel on later does not
send the county's history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f7b9d1e3a5c8"
down_revision = "e5a7c9d1f3b6"
branch_labels = None
depends_on = None

UNDISPATCHED = "dispatched_at IS NULL"
PENDING = "state = 'pending'"


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(254), nullable=False, server_default=""))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE notification SET dispatched_at = created_at")
    op.create_index(
        "ix_notification_undispatched",
        "notification",
        ["id"],
        postgresql_where=sa.text(UNDISPATCHED),
        sqlite_where=sa.text(UNDISPATCHED),
    )
    op.create_table(
        "notice_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notice_delivery_notification_id", "notice_delivery", ["notification_id"])
    op.create_index(
        "ix_notice_delivery_due",
        "notice_delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_notice_delivery_due", table_name="notice_delivery")
    op.drop_index("ix_notice_delivery_notification_id", table_name="notice_delivery")
    op.drop_table("notice_delivery")
    op.drop_index("ix_notification_undispatched", table_name="notification")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("dispatched_at")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("email")
