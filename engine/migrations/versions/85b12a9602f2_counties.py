"""counties of a city: every organisation and instance knows its county

Revision ID: 85b12a9602f2
Revises: b5463a77657c
Create Date: 2026-12-01 11:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "85b12a9602f2"
down_revision = "b5463a77657c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("county_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_organization_county", "organization", ["county_id"], ["id"])
        batch_op.create_index("ix_organization_county_id", ["county_id"])
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("county_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_instance_county", "organization", ["county_id"], ["id"])
        batch_op.create_index("ix_instance_county_created", ["county_id", "created_at", "id"])
    # Until now a deployment served one county: each organisation belongs to the county above
    # it, and each instance to its filer's county.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, level, parent_id FROM organization")).all()
    parents = {row.id: (row.level, row.parent_id) for row in rows}
    for org_id in parents:
        seen, county = org_id, None
        while seen is not None and county is None:
            level, parent = parents[seen]
            county = seen if level == "county" else None
            seen = parent
        if county is not None:
            bind.execute(
                sa.text("UPDATE organization SET county_id = :county WHERE id = :id"),
                {"county": county, "id": org_id},
            )
    # Each county numbers its own instances: the one county's running sequences become its.
    counties = [org_id for org_id, (level, _) in parents.items() if level == "county"]
    if len(counties) == 1:
        bind.execute(
            sa.text(
                "UPDATE number_sequence SET kind = kind || :suffix WHERE kind LIKE 'instance:%'"
            ),
            {"suffix": f":{counties[0]}"},
        )
    bind.execute(
        sa.text(
            "UPDATE instance SET county_id = (SELECT county_id FROM organization"
            " WHERE organization.id = instance.applicant_org_id)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_county_created")
        batch_op.drop_constraint("fk_instance_county", type_="foreignkey")
        batch_op.drop_column("county_id")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_index("ix_organization_county_id")
        batch_op.drop_constraint("fk_organization_county", type_="foreignkey")
        batch_op.drop_column("county_id")
