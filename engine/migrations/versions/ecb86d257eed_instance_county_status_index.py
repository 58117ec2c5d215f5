"""instance county-status index: a county's matters of one status, newest first, from the index

Since instances belong to a county, every search of a county office filters on the county
first; filtering by status then read each candidate row to test its county (on SQLite, past
the stored workflow state). This index answers the filter, the capped count and the order.

Revision ID: ecb86d257eed
Revises: 0be80f85781d
Create Date: 2026-12-01 18:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "ecb86d257eed"
down_revision = "0be80f85781d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_instance_county_status_created",
        "instance",
        ["county_id", "status", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_instance_county_status_created", table_name="instance")
