"""duty list stamps: the state of each county's lists, so processes may keep them in memory

Revision ID: 0be80f85781d
Revises: 5107c3958029
Create Date: 2026-12-01 12:30:00.000000
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0be80f85781d"
down_revision = "5107c3958029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duty_list_stamp",
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["county_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("county_id"),
    )
    bind = op.get_bind()
    counties = bind.execute(sa.text("SELECT id FROM organization WHERE level = 'county'")).all()
    for (county_id,) in counties:
        bind.execute(
            sa.text("INSERT INTO duty_list_stamp (county_id, stamp) VALUES (:county, :stamp)"),
            {"county": county_id, "stamp": secrets.token_hex(16)},
        )


def downgrade() -> None:
    op.drop_table("duty_list_stamp")
