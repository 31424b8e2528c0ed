"""Indexes for retention and the operators' unfiltered listings

``events prune`` / ``INTELLECTRA_RETENTION`` find old rows by their timestamps, and a domain event is kept
while a delivery still refers to it (``ix_deliveries_domain_event``: without it, that check read every
delivery for each domain event). ``events list`` and ``deliveries list`` without a filter walk the
newest rows of a timestamp index instead of sorting the table. On PostgreSQL they are built
concurrently, so ``db upgrade`` on a large, live database does not stop intake meanwhile.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_inbound_events_received", "inbound_events", ["received_at"]),
    ("ix_domain_events_created", "domain_events", ["created_at"]),
    ("ix_deliveries_created", "deliveries", ["created_at"]),
    ("ix_deliveries_domain_event", "deliveries", ["domain_event_id"]),
    ("ix_audit_log_created", "audit_log", ["created_at"]),
    ("ix_connect_states_expires", "connect_states", ["expires_at"]),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name, table, columns in INDEXES:
            op.create_index(name, table, columns, unique=False)
        return
    # CONCURRENTLY: a deployment with millions of rows keeps taking webhooks while these build (a plain
    # CREATE INDEX blocks every write to the table until it is done). It cannot run in a transaction.
    with op.get_context().autocommit_block():
        for name, table, columns in INDEXES:
            op.create_index(name, table, columns, unique=False, postgresql_concurrently=True)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
