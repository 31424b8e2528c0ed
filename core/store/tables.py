"""The schema, as SQLAlchemy Core tables. Migrations in ``migrations/versions`` create exactly this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (the same on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use timezone-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

ENCRYPTED = {"encrypted": True}
"""``info`` of every column that holds ciphertext (``SecretBox``); ``secrets rotate`` re-encrypts exactly
these, so a new encrypted column is rotated by declaring it, not by remembering a list elsewhere."""


def encrypted_columns() -> list[Column[Any]]:
    return [column for table in metadata.sorted_tables for column in table.columns
            if column.info.get("encrypted")]

ID = 40

tenants = Table(
    "tenants", metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=True, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

connections = Table(
    "connections", metadata,
    Column("id", String(ID), primary_key=True),
    Column("tenant_id", String(ID), ForeignKey("tenants.id"), nullable=False),
    Column("integration", String(100), nullable=False),
    Column("state", String(32), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("action_url", Text, nullable=True),
    Column("external_id", String(255), nullable=True),
    Column("livemode", Boolean, nullable=True),
    Column("data", JSON, nullable=False),
    Column("secrets", Text, nullable=True, info=ENCRYPTED),
    Column("version", Integer, nullable=False, default=1, server_default="1"),  # optimistic concurrency
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "integration"),
    UniqueConstraint("integration", "external_id"),
)

connect_states = Table(
    "connect_states", metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the state token; the token is never stored
    Column("tenant_id", String(ID), ForeignKey("tenants.id"), nullable=False),
    Column("integration", String(100), nullable=False),
    Column("data", Text, nullable=True, info=ENCRYPTED),  # the plugin's state_data, as JSON
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Index("ix_connect_states_expires", "expires_at"),  # retention
)

inbound_events = Table(
    "inbound_events", metadata,
    Column("id", String(ID), primary_key=True),
    Column("integration", String(100), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("type", String(200), nullable=False),
    Column("account", String(255), nullable=True),
    Column("livemode", Boolean, nullable=True),
    Column("tenant_id", String(ID), nullable=True),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),  # handler runs with a recorded result
    Column("claims", Integer, nullable=False, default=0, server_default="0"),  # claims taken, finished or not
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime, nullable=True),
    UniqueConstraint("integration", "external_id"),
    # The claim's queue (core/pipeline/claims.py): pending rows only, in due order. ``status`` leads so that
    # SQLite, which plans without statistics, sees the claim's equality and its order in this one index.
    Index("ix_inbound_events_due", "status", "next_attempt_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
    Index("ix_inbound_events_status", "status", "received_at"),  # operators' listings by status
    Index("ix_inbound_events_received", "received_at"),  # the unfiltered listing, newest first
)

domain_events = Table(
    "domain_events", metadata,
    Column("id", String(ID), primary_key=True),
    Column("tenant_id", String(ID), nullable=False),
    Column("type", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Column("source", String(100), nullable=True),
    Column("inbound_event_id", String(ID), nullable=True),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_domain_events_tenant_type", "tenant_id", "type", "created_at"),
    Index("ix_domain_events_inbound", "inbound_event_id"),
    Index("ix_domain_events_created", "created_at"),  # retention
)

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", String(ID), primary_key=True),
    Column("tenant_id", String(ID), ForeignKey("tenants.id"), nullable=False),
    Column("integration", String(100), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("target_url", Text, nullable=False),
    Column("secret", Text, nullable=False, info=ENCRYPTED),  # the signing secret
    Column("filters", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_subscriptions_tenant_event", "tenant_id", "event_type"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", String(ID), primary_key=True),  # the webhook-id, stable across retries
    Column("tenant_id", String(ID), nullable=False),
    Column("integration", String(100), nullable=False),
    Column("subscription_id", String(ID), nullable=True),
    Column("domain_event_id", String(ID), nullable=True),
    Column("event_type", String(100), nullable=False),
    Column("target_url", Text, nullable=False),  # for plugin targets: scheme and host only
    Column("target_url_secret", Text, nullable=True, info=ENCRYPTED),  # full URL when the URL is a credential
    Column("payload", Text, nullable=False),
    Column("secret", Text, nullable=True, info=ENCRYPTED),  # the signing secret (None: unsigned target)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    # When this round of attempts gives up (set by its first failure, cleared by a re-queue): a
    # Retry-After asking to wait past it makes the delivery dead instead.
    Column("retry_deadline", UTCDateTime, nullable=True),
    Index("ix_deliveries_due", "status", "next_attempt_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
    Index("ix_deliveries_status", "status", "created_at"),
    Index("ix_deliveries_tenant", "tenant_id", "created_at"),
    Index("ix_deliveries_created", "created_at"),  # the unfiltered listing, newest first
    Index("ix_deliveries_domain_event", "domain_event_id"),  # retention: does a delivery still need this event?
)

observations = Table(
    "observations", metadata,
    Column("id", String(ID), primary_key=True),
    Column("domain_event_id", String(ID), nullable=False),
    Column("tenant_id", String(ID), nullable=False),
    Column("integration", String(100), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),  # on_domain_event runs with a recorded result
    Column("claims", Integer, nullable=False, default=0),  # claims taken, finished or not
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_observations_due", "status", "next_attempt_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),  # the claim's walk (core/pipeline/claims.py)
    Index("ix_observations_status", "status", "created_at"),  # operators' listings by status
    Index("ix_observations_created", "created_at"),  # the unfiltered listing, newest first
    Index("ix_observations_domain_event", "domain_event_id"),
)
"""One row per (domain event, observing plugin with an active connection of its tenant), written with
the event; workers call the plugin's ``on_domain_event`` for it after the commit."""

api_keys = Table(
    "api_keys", metadata,
    Column("id", String(ID), primary_key=True),
    Column("tenant_id", String(ID), ForeignKey("tenants.id"), nullable=False),
    Column("integration", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", String(ID), primary_key=True),
    Column("tenant_id", String(ID), nullable=True),
    Column("integration", String(100), nullable=True),
    Column("action", String(100), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_audit_log_tenant", "tenant_id", "created_at"),
    Index("ix_audit_log_created", "created_at"),  # retention
)

rate_limits = Table(
    "rate_limits", metadata,
    Column("scope", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),  # seconds since the epoch: the bucket's arithmetic is in seconds
)
