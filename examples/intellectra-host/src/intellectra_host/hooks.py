"""The site's answers to the integration host: who is signed in, what connected apps may do, and what
the site does when a purchase completes.

Registered with ``host.register_host_app(SiteHooks(school), observes={"purchase.completed"})``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import DomainEvent, Tenant, TenantLookup, hookimpl
from starlette.requests import Request

from intellectra_host.school import School

SESSION_CREATOR = "creator_id"
"""The key of the signed-in creator in the site's own session."""


class SiteHooks:
    def __init__(self, school: School) -> None:
        self.school = school

    @hookimpl
    def resolve_tenant(self, request: Request, tenants: TenantLookup) -> Tenant | None:
        """The school of the creator signed in to the site (the site's session, not the integration host's)."""
        creator_id = request.session.get(SESSION_CREATOR) if "session" in request.scope else None
        creator = self.school.creator(creator_id) if isinstance(creator_id, str) else None
        return tenants.find(creator.tenant_id) if creator else None

    @hookimpl
    def perform_action(self, tenant: Tenant, action: str, input: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Zapier's "Enroll Member in Course" (``input`` is already validated by the Zapier plugin)."""
        if action != "enroll_member":
            return None  # the caller answers 501: this site does not do that (yet)
        enrollment = self.school.enroll(tenant.id, input["course_id"], input["email"], source="zapier")
        course = self.school.course(enrollment.course_id, tenant_id=tenant.id)
        return {"enrollment_id": enrollment.id, "member_id": enrollment.member_id, "email": enrollment.email,
                "course_id": enrollment.course_id, "course_title": course.title if course else None,
                "already_enrolled": not enrollment.created}

    @hookimpl
    def observe_domain_event(self, tenant: Tenant, event: DomainEvent) -> None:
        """A buyer who paid for a course is enrolled in it (``purchase.completed``, every school's).

        Runs in the integration host's workers after the purchase is committed, and again if it raises,
        so it must be idempotent: ``School.enroll`` is. A purchase of an offer that sells no course here
        (made in Stripe's dashboard, say) is none of the site's business.
        """
        if event.type != "purchase.completed" or not event.data.get("buyer_email"):
            return
        course = self.school.course_sold_by(tenant.id, str(event.data.get("offer_id")))
        if course is not None:
            self.school.enroll(tenant.id, course.id, str(event.data["buyer_email"]), source="purchase")
