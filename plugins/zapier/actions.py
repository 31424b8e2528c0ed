"""Zapier actions ("creates"): validated here, carried out by the host app's ``perform_action``.

Each action's input is an attrs class; field ``metadata`` (label, help) feeds the Zapier app's
input fields through the catalogue, so the form and the validation never disagree.
"""

from __future__ import annotations

from typing import Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import IntellectraError, NotFound
from plugins.zapier.auth import Caller
from plugins.zapier.routing import ZapierApi
from plugins.zapier.validation import check_email, check_not_blank, json_object, structure


def _email() -> Any:
    return attrs.field(validator=check_email, metadata={"label": "Email", "help": "The member's email address."})


def _course_id() -> Any:
    return attrs.field(validator=check_not_blank,
                       metadata={"label": "Course ID", "help": "The id of the course (e.g. crs_...)."})


@attrs.frozen(kw_only=True)
class CreateMember:
    email: str = _email()
    name: str | None = attrs.field(default=None, metadata={"label": "Name", "help": "The member's full name."})


@attrs.frozen(kw_only=True)
class EnrollMember:
    email: str = _email()
    course_id: str = _course_id()


@attrs.frozen(kw_only=True)
class UnenrollMember:
    email: str = _email()
    course_id: str = _course_id()


@attrs.frozen(kw_only=True)
class AddTag:
    email: str = _email()
    tag: str = attrs.field(validator=check_not_blank, metadata={"label": "Tag", "help": "The tag to add."})


@attrs.frozen(kw_only=True)
class Action:
    """One action as Zapier lists it."""

    name: str
    title: str
    noun: str
    description: str
    input: type[Any]


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action(name="create_member", title="Create Member", noun="Member", input=CreateMember,
           description="Creates a member on your site (or finds the existing one with that email)."),
    Action(name="enroll_member", title="Enroll Member in Course", noun="Enrollment", input=EnrollMember,
           description="Enrolls a member in a course."),
    Action(name="unenroll_member", title="Unenroll Member from Course", noun="Enrollment", input=UnenrollMember,
           description="Removes a member's enrollment in a course."),
    Action(name="add_tag", title="Add Tag to Member", noun="Tag", input=AddTag,
           description="Adds a tag to a member."),
)}


class ActionNotSupported(IntellectraError):
    code = "action_not_supported"
    http_status = 501


async def perform(request: Request, caller: Caller, api: ZapierApi) -> Response:
    name = request.path_params["action"]
    action = ACTIONS.get(name)
    if action is None:
        raise NotFound(f"There is no action {name!r}; actions are {', '.join(ACTIONS)}.", code="action_unknown")
    data = structure(await json_object(request), action.input, what=f"{action.title} fields")
    payload = attrs.asdict(data)
    result = await caller.ctx.run_in_threadpool(caller.ctx.perform_action, name, payload)
    if result is None:
        raise ActionNotSupported(f"This site cannot {action.title.lower()} yet: the Intellectra host app does "
                                 f"not implement the {name!r} action. Remove this step from the Zap or ask "
                                 "Intellectra support when it will be available.")
    return JSONResponse(dict(result))


def routes(api: ZapierApi) -> list[Route]:
    return [api.route("/api/zapier/actions/{action}", perform, methods=["POST"])]
