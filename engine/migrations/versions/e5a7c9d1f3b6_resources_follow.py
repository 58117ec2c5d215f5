"""费随事转 tracked: each township's promised share, what has arrived, until when the rest is due

Revision ID: e5a7c9d1f3b6
Revises: d9f2b6c8e0a4
Create Date: 2026-11-30 18:20:00.000000

Entries made before this revision carried the whole matter's funding and staff on every
township's row; they are split among the matter's townships here (the first townships take
the remainder), so that no figure is counted once per township. What had arrived is taken from
the old yes/no: all of the share, or nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e5a7c9d1f3b6"
down_revision = "d9f2b6c8e0a4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("powers", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("funding_source", sa.String(40), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("funding_paid_by", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("funding_received_yuan", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("staff_received", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("powers_received", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("shortfall_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("shortfall_escalated_at", sa.DateTime(), nullable=True))
    op.create_table(
        "resource_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("funding_yuan", sa.BigInteger(), nullable=False),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.Column("powers_in_place", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["matter_id"], ["matter.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_resource_delivery_matter_id", "resource_delivery", ["matter_id"])
    _split_old_entries()


def _split_old_entries() -> None:
    matter = sa.table(
        "matter",
        sa.column("id", sa.Integer),
        sa.column("instance_id", sa.Integer),
        sa.column("funding_yuan", sa.BigInteger),
        sa.column("staff", sa.Integer),
        sa.column("resources_received", sa.Boolean),
        sa.column("funding_received_yuan", sa.BigInteger),
        sa.column("staff_received", sa.Integer),
        sa.column("powers_received", sa.Boolean),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(matter.c.id, matter.c.instance_id, matter.c.funding_yuan, matter.c.staff)
        .add_columns(matter.c.resources_received)
        .order_by(matter.c.instance_id, matter.c.id)
    ).all()
    addressed = sa.table("instance_township", sa.column("instance_id", sa.Integer))
    townships = dict(
        bind.execute(
            sa.select(addressed.c.instance_id, sa.func.count()).group_by(addressed.c.instance_id)
        ).all()
    )
    by_instance: dict[int, list[sa.Row]] = {}
    for row in rows:
        by_instance.setdefault(row.instance_id, []).append(row)
    for instance_id, entries in by_instance.items():
        n = max(len(entries), townships.get(instance_id, 0))
        for i, row in enumerate(entries):
            funding = row.funding_yuan // n + (1 if i < row.funding_yuan % n else 0)
            staff = row.staff // n + (1 if i < row.staff % n else 0)
            received = bool(row.resources_received)
            bind.execute(
                matter.update()
                .where(matter.c.id == row.id)
                .values(
                    funding_yuan=funding,
                    staff=staff,
                    funding_received_yuan=funding if received else 0,
                    staff_received=staff if received else 0,
                    powers_received=received,
                )
            )


def downgrade() -> None:
    op.drop_index("ix_resource_delivery_matter_id", table_name="resource_delivery")
    op.drop_table("resource_delivery")
    with op.batch_alter_table("matter", schema=None) as batch_op:
        for column in (
            "shortfall_escalated_at",
            "shortfall_due",
            "powers_received",
            "staff_received",
            "funding_received_yuan",
            "funding_paid_by",
            "funding_source",
            "powers",
        ):
            batch_op.drop_column(column)
