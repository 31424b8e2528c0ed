"""Observations: observing plugins run after the commit, in workers, from a queue written with the event

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.store.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("domain_event_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("integration", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index("ix_observations_due", "observations", ["status", "next_attempt_at"],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index("ix_observations_status", "observations", ["status", "created_at"])
    op.create_index("ix_observations_created", "observations", ["created_at"])
    op.create_index("ix_observations_domain_event", "observations", ["domain_event_id"])


def downgrade() -> None:
    op.drop_index("ix_observations_domain_event", table_name="observations")
    op.drop_index("ix_observations_created", table_name="observations")
    op.drop_index("ix_observations_status", table_name="observations")
    op.drop_index("ix_observations_due", table_name="observations")
    op.drop_table("observations")
