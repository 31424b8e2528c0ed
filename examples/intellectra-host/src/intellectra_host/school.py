"""The site's business: creators and their schools, courses, members and enrollments.

Every write that the platform's vocabulary names happens in one transaction with its domain event
(``host.emit(..., conn=conn)``): the enrollment row and ``enrollment.created`` are committed together or
not at all, so a connected app never hears of an enrollment that was rolled back, and never misses one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
from core import Host, Tenant, ValidationFailed
from sqlalchemy import Connection, Row, select
from sqlalchemy.exc import IntegrityError

from intellectra_host.tables import courses, creators, enrollments, members

STRIPE = "stripe_connect"
CREATE_OFFER = "create_offer"


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def now() -> datetime:
    return datetime.now(UTC)


def normalise_email(email: str) -> str:
    return email.strip().lower()


# -------------------------------------------------------------------------------------------------- passwords
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(stored: str, password: str) -> bool:
    scheme, _, rest = stored.partition("$")
    salt, _, digest = rest.partition("$")
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


# -------------------------------------------------------------------------------------------------- records
@attrs.frozen(kw_only=True)
class Creator:
    id: str
    email: str
    name: str
    site_name: str
    tenant_id: str


@attrs.frozen(kw_only=True)
class Course:
    id: str
    tenant_id: str
    title: str
    price: int | None
    currency: str | None
    offer_id: str | None
    checkout_url: str | None

    @property
    def is_paid(self) -> bool:
        return self.price is not None

    @property
    def price_label(self) -> str:
        if self.price is None or self.currency is None:
            return "Free"
        return f"{Decimal(self.price) / 100:,.2f} {self.currency.upper()}"


@attrs.frozen(kw_only=True)
class Enrollment:
    id: str
    course_id: str
    member_id: str
    email: str
    source: str
    created: bool
    """False when the member was already enrolled (nothing was written, nothing emitted)."""


@attrs.frozen(kw_only=True)
class Student:
    email: str
    name: str | None
    source: str
    enrolled_at: datetime


def _creator(row: Row[Any]) -> Creator:
    return Creator(id=row.id, email=row.email, name=row.name, site_name=row.site_name, tenant_id=row.tenant_id)


def _course(row: Row[Any]) -> Course:
    return Course(id=row.id, tenant_id=row.tenant_id, title=row.title, price=row.price, currency=row.currency,
                  offer_id=row.offer_id, checkout_url=row.checkout_url)


class School:
    """The site's operations over its tables in the integration host's database (``host.engine``)."""

    def __init__(self, host: Host) -> None:
        self.host = host

    # ---------------------------------------------------------------------------------------- creators
    def add_creator(self, *, email: str, name: str, password: str, site_name: str) -> Creator:
        """A creator and their school's tenant, created in one transaction."""
        creator_id = new_id("cre")
        with self.host.engine.begin() as conn:
            tenant, _api_token = self.host.tenants.create(site_name, conn=conn)  # the site never uses the token
            conn.execute(creators.insert().values(id=creator_id, email=normalise_email(email), name=name,
                                                  password_hash=hash_password(password), site_name=site_name,
                                                  tenant_id=tenant.id, created_at=now()))
        return Creator(id=creator_id, email=normalise_email(email), name=name, site_name=site_name,
                       tenant_id=tenant.id)

    def sign_in(self, email: str, password: str) -> Creator | None:
        with self.host.engine.connect() as conn:
            row = conn.execute(select(creators).where(creators.c.email == normalise_email(email))).first()
        if row is None or not password_matches(row.password_hash, password):
            return None
        return _creator(row)

    def creator(self, creator_id: str) -> Creator | None:
        with self.host.engine.connect() as conn:
            row = conn.execute(select(creators).where(creators.c.id == creator_id)).first()
        return _creator(row) if row else None

    def creators(self) -> list[Creator]:
        with self.host.engine.connect() as conn:
            return [_creator(r) for r in conn.execute(select(creators).order_by(creators.c.created_at))]

    def tenant_of(self, creator: Creator) -> Tenant:
        return self.host.tenants.get(creator.tenant_id)

    # ---------------------------------------------------------------------------------------- courses
    def courses(self, tenant_id: str) -> list[Course]:
        with self.host.engine.connect() as conn:
            rows = conn.execute(select(courses).where(courses.c.tenant_id == tenant_id)
                                .order_by(courses.c.created_at, courses.c.id))
            return [_course(r) for r in rows]

    def course(self, course_id: str, *, tenant_id: str | None = None) -> Course | None:
        """A course by id; with ``tenant_id`` only that school's (never another creator's)."""
        stmt = select(courses).where(courses.c.id == course_id)
        if tenant_id is not None:
            stmt = stmt.where(courses.c.tenant_id == tenant_id)
        with self.host.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return _course(row) if row else None

    def course_sold_by(self, tenant_id: str, offer_id: str) -> Course | None:
        with self.host.engine.connect() as conn:
            row = conn.execute(select(courses).where(courses.c.tenant_id == tenant_id,
                                                     courses.c.offer_id == offer_id)).first()
        return _course(row) if row else None

    def add_free_course(self, tenant: Tenant, title: str) -> Course:
        title = _title(title)
        course = Course(id=new_id("crs"), tenant_id=tenant.id, title=title, price=None, currency=None,
                        offer_id=None, checkout_url=None)
        self._insert_course(course)
        return course

    def add_paid_course(self, tenant: Tenant, title: str, *, price: str, currency: str, site_url: str) -> Course:
        """Ask the Stripe integration for an offer (its ``create_offer`` card form), then keep the course.

        The integration refuses (``ActionRequired`` with Stripe's dashboard as ``action_url``) while the
        creator's Stripe account cannot take payments; then nothing is created here either.
        """
        title = _title(title)
        course_id = new_id("crs")
        result = self.host.submit_card_form(tenant, STRIPE, CREATE_OFFER, {
            "title": title, "kind": "course", "price": price, "currency": currency,
            "success_url": f"{site_url}/c/{course_id}/welcome",
        })
        offer: Mapping[str, object] = result.data
        course = Course(id=course_id, tenant_id=tenant.id, title=title, price=int(str(offer["amount"])),
                        currency=str(offer["currency"]), offer_id=str(offer["id"]),
                        checkout_url=str(offer["checkout_url"]))
        self._insert_course(course)
        return course

    def _insert_course(self, course: Course) -> None:
        with self.host.engine.begin() as conn:
            conn.execute(courses.insert().values(**attrs.asdict(course), created_at=now()))

    # ---------------------------------------------------------------------------------------- members
    def enroll(self, tenant_id: str, course_id: str, email: str, *, source: str,
               name: str | None = None) -> Enrollment:
        """Enroll ``email`` in the course (a new member first if needed); emits what it writes.

        Idempotent: an existing enrollment is returned with ``created=False`` and nothing is emitted,
        so a purchase observed twice enrolls its buyer once. Two enrollments racing for the same
        member meet the unique constraint; the loser finds the winner's row on its second try.
        """
        try:
            with self.host.engine.begin() as conn:
                return self.enroll_in(conn, tenant_id, course_id, email, source=source, name=name)
        except IntegrityError:  # the racing transaction has committed its rows by now
            with self.host.engine.begin() as conn:
                return self.enroll_in(conn, tenant_id, course_id, email, source=source, name=name)

    def enroll_in(self, conn: Connection, tenant_id: str, course_id: str, email: str, *, source: str,
                  name: str | None = None) -> Enrollment:
        """The same, inside the caller's transaction (the domain events join it)."""
        email = normalise_email(email)
        course = conn.execute(select(courses).where(courses.c.id == course_id,
                                                    courses.c.tenant_id == tenant_id)).first()
        if course is None:
            raise ValidationFailed(f"There is no course {course_id!r} on this site; the course id is on the "
                                   "course's page (crs_...).", code="course_unknown")
        member = conn.execute(select(members).where(members.c.tenant_id == tenant_id,
                                                    members.c.email == email)).first()
        if member is None:
            member_id = new_id("mem")
            conn.execute(members.insert().values(id=member_id, tenant_id=tenant_id, email=email, name=name,
                                                 created_at=now()))
            self.host.emit(tenant_id, "member.created", {"member_id": member_id, "email": email, "name": name},
                           conn=conn)
        else:
            member_id = member.id
        existing = conn.execute(select(enrollments).where(enrollments.c.course_id == course_id,
                                                          enrollments.c.member_id == member_id)).first()
        if existing is not None:
            return Enrollment(id=existing.id, course_id=course_id, member_id=member_id, email=email,
                              source=existing.source, created=False)
        enrollment_id = new_id("enr")
        conn.execute(enrollments.insert().values(id=enrollment_id, tenant_id=tenant_id, course_id=course_id,
                                                 member_id=member_id, source=source, created_at=now()))
        self.host.emit(tenant_id, "enrollment.created", {
            "enrollment_id": enrollment_id, "member_id": member_id, "email": email, "course_id": course_id,
            "course_title": course.title}, conn=conn)
        return Enrollment(id=enrollment_id, course_id=course_id, member_id=member_id, email=email, source=source,
                          created=True)

    def students(self, tenant_id: str, course_id: str) -> list[Student]:
        stmt = (select(members.c.email, members.c.name, enrollments.c.source, enrollments.c.created_at)
                .join(members, members.c.id == enrollments.c.member_id)
                .where(enrollments.c.tenant_id == tenant_id, enrollments.c.course_id == course_id)
                .order_by(enrollments.c.created_at, enrollments.c.id))
        with self.host.engine.connect() as conn:
            return [Student(email=r.email, name=r.name, source=r.source, enrolled_at=r.created_at)
                    for r in conn.execute(stmt)]


def _title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > 200:
        raise ValidationFailed("Give the course a title of 1 to 200 characters.", code="course_title_invalid")
    return title
