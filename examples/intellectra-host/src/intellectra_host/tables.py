"""The site's own tables, in the integration host's database (so one transaction covers both).

Prefixed ``site_`` so they never meet the integration host's tables. A real host app keeps them in its
own migrations; this example creates them at start-up (``create_all`` is idempotent).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table, UniqueConstraint

metadata = MetaData()

creators = Table(
    "site_creators", metadata,
    Column("id", String(40), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("site_name", String(200), nullable=False),
    Column("tenant_id", String(40), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""A creator signs in to the site and owns one school: its tenant in the integration host."""

courses = Table(
    "site_courses", metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("price", Integer, nullable=True),  # in the currency's smallest unit; NULL: a free course
    Column("currency", String(3), nullable=True),
    Column("offer_id", String(100), nullable=True, index=True),  # the Stripe offer that sells it
    Column("checkout_url", String(2000), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

members = Table(
    "site_members", metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "email", name="uq_site_members_tenant_email"),
)

enrollments = Table(
    "site_enrollments", metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("course_id", String(40), ForeignKey("site_courses.id"), nullable=False),
    Column("member_id", String(40), ForeignKey("site_members.id"), nullable=False),
    Column("source", String(20), nullable=False),  # "purchase", "zapier" or "creator"
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("course_id", "member_id", name="uq_site_enrollments_course_member"),
)
