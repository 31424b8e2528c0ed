"""Queue indexes made for the claim: pending rows only, in due order (a plan that never degrades)

The claim (core/pipeline/claims.py) walks ``ix_*_due`` in ``next_attempt_at`` order and stops after a
batch, whatever the table's size or statistics. The old ``(status, next_attempt_at)`` indexes are
replaced by ``(status, received_at / created_at)``, which serve the operators' listings by status.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_events_queue")
        batch_op.create_index("ix_inbound_events_due", ["status", "next_attempt_at"], unique=False,
                              postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.create_index("ix_inbound_events_status", ["status", "received_at"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_queue")
        batch_op.create_index("ix_deliveries_due", ["status", "next_attempt_at"], unique=False,
                              postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.create_index("ix_deliveries_status", ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status")
        batch_op.drop_index("ix_deliveries_due")
        batch_op.create_index("ix_deliveries_queue", ["status", "next_attempt_at"], unique=False)
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_events_status")
        batch_op.drop_index("ix_inbound_events_due")
        batch_op.create_index("ix_inbound_events_queue", ["status", "next_attempt_at"], unique=False)
