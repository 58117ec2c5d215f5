"""instances numbered per kind and year (准〔2026〕3号), and the sequences that issue numbers

Revision ID: b2d4f6a8c0e1
Revises: a8c0e2f4b6d9
Create Date: 2026-11-30 19:10:00.000000

Instances started before this revision are numbered here in the order they were filed, each
process with the prefix its shipped diagram declares (others 事), by the year they were filed
in China Standard Time; the sequences continue from there.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "b2d4f6a8c0e1"
down_revision = "a8c0e2f4b6d9"
branch_labels = None
depends_on = None

PREFIXES = {
    "matter_admission": "准",
    "secondment_admission": "借",
    "fault_tolerance": "容",
    "clearance": "澄",
}
CHINA = timedelta(hours=8)


def upgrade() -> None:
    op.create_table(
        "number_sequence",
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "year"),
    )
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.String(60), nullable=False, server_default=""))
    _number_existing()


def _number_existing() -> None:
    instance = sa.table(
        "instance",
        sa.column("id", sa.Integer),
        sa.column("process_id", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("number", sa.String),
    )
    sequence = sa.table(
        "number_sequence",
        sa.column("kind", sa.String),
        sa.column("year", sa.Integer),
        sa.column("last", sa.Integer),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(instance.c.id, instance.c.process_id, instance.c.created_at).order_by(
            instance.c.created_at, instance.c.id
        )
    ).all()
    last: dict[tuple[str, int], int] = {}
    for row in rows:
        year = (row.created_at + CHINA).year
        key = (f"instance:{row.process_id}", year)
        last[key] = last.get(key, 0) + 1
        number = f"{PREFIXES.get(row.process_id, '事')}〔{year}〕{last[key]}号"
        bind.execute(instance.update().where(instance.c.id == row.id).values(number=number))
    if last:
        bind.execute(
            sequence.insert(),
            [{"kind": kind, "year": year, "last": n} for (kind, year), n in last.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.drop_column("number")
    op.drop_table("number_sequence")
