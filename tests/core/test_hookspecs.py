"""The hook specs are the plugin author's manual: every hook is documented, and docs/hooks.md matches."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from core import hookdocs, hookspecs

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_HOOKS = {"integration_info", "connect", "complete_connect", "disconnect", "status", "verify_webhook",
                  "handle_event", "on_domain_event", "web_routes", "resolve_tenant", "perform_action"}


def test_every_hook_the_architecture_requires_exists():
    assert set(hookdocs.hook_names()) >= REQUIRED_HOOKS


@pytest.mark.parametrize("name", hookdocs.hook_names())
def test_each_hook_has_a_docstring_that_says_when_what_and_how(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert len(doc) >= 200, f"hook {name} needs a docstring explaining when it is called, its arguments and result"
    params = [p for p in inspect.signature(getattr(hookspecs, name)).parameters]
    for param in params:
        assert f"``{param}``" in doc or param in ("ctx",) or f"``{param}." in doc, (
            f"hook {name}: argument {param!r} is not described in its docstring")


def test_addressed_hooks_are_the_ones_the_architecture_names():
    assert set(hookspecs.ADDRESSED_HOOKS) >= {"connect", "complete_connect", "disconnect", "status", "handle_event"}


def test_docs_hooks_md_is_generated_from_the_current_specs():
    committed = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    assert committed == hookdocs.render(), (
        "docs/hooks.md is stale: run `intellectra-integrations docs hooks` and commit the result")


def context_members() -> list[tuple[str, object]]:
    """Every public member of the plugin context and of the service groups it hands out."""
    from core.context import IntegrationContext

    members = [(f"ctx.{n}", m) for n, m in hookdocs.public_members(IntegrationContext)]
    for group in hookdocs.SERVICES.values():
        members += [(f"{group.__name__}.{n}", m) for n, m in hookdocs.public_members(group)]
    return members


@pytest.mark.parametrize(("name", "member"), context_members(), ids=[n for n, _ in context_members()])
def test_every_member_of_the_plugin_context_is_documented_in_docs_hooks_md(name, member):
    assert hookdocs.summary(member), f"{name} needs a docstring: docs/hooks.md lists the context from them"
    assert hookdocs.summary(member) in (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")


def test_every_service_group_of_the_context_is_in_the_reference():
    from core.context import IntegrationContext

    returned = {str(m.fget.__annotations__.get("return")) for _, m in hookdocs.public_members(IntegrationContext)
                if isinstance(m, property) and m.fget is not None}
    assert {name for name in returned if name.endswith("Service")} <= set(hookdocs.SERVICES)
