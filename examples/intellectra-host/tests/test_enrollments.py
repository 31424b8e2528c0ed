"""Enrollments: the site's rows and their domain events are written in one transaction, once."""

from __future__ import annotations

import pytest
from core import ValidationFailed
from core.testing import Recorder
from sqlalchemy import func, select

from intellectra_host.tables import enrollments, members


def domain_events(site, event_type: str) -> list[dict]:
    return [dict(e.data) for e in Recorder(site.host).domain_events(event_type)]


def count(site, table) -> int:
    with site.host.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def school(running_site):
    return running_site.site.school


@pytest.fixture
def course(school):
    ada = school.creators()[0]
    return school.add_free_course(school.tenant_of(ada), "Colour theory")


def test_enrolling_someone_new_writes_the_member_and_the_enrollment_with_their_events(running_site, school, course):
    enrollment = school.enroll(course.tenant_id, course.id, " Grace@Example.com ", source="creator")

    assert enrollment.created and enrollment.email == "grace@example.com"
    (member,) = domain_events(running_site.site, "member.created")
    (enrolled,) = domain_events(running_site.site, "enrollment.created")
    assert member == {"member_id": enrollment.member_id, "email": "grace@example.com", "name": None}
    assert enrolled == {"enrollment_id": enrollment.id, "member_id": enrollment.member_id,
                                "email": "grace@example.com", "course_id": course.id,
                                "course_title": "Colour theory"}


def test_enrolling_twice_writes_and_emits_once(running_site, school, course):
    first = school.enroll(course.tenant_id, course.id, "grace@example.com", source="purchase")
    again = school.enroll(course.tenant_id, course.id, "grace@example.com", source="zapier")

    assert (first.created, again.created) == (True, False) and again.id == first.id
    assert count(running_site.site, enrollments) == 1
    assert len(domain_events(running_site.site, "enrollment.created")) == 1


def test_a_failure_after_emitting_takes_the_rows_and_the_events_back_together(running_site, school, course):
    with pytest.raises(RuntimeError), running_site.site.host.engine.begin() as conn:
        school.enroll_in(conn, course.tenant_id, course.id, "grace@example.com", source="creator")
        raise RuntimeError("the site's next step failed")

    assert count(running_site.site, members) == count(running_site.site, enrollments) == 0
    assert domain_events(running_site.site, "member.created") == []
    assert domain_events(running_site.site, "enrollment.created") == []


def test_another_schools_course_cannot_be_enrolled_in(school, course):
    grace = school.creators()[1]

    with pytest.raises(ValidationFailed, match="There is no course"):
        school.enroll(grace.tenant_id, course.id, "someone@example.com", source="creator")
