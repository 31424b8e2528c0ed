"""Writing ``docs/hooks.md`` from the hook specs' docstrings (one source of truth)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

from core import hookspecs
from core.context import IntegrationContext
from core.plugin_services import (
    ApiKeysService,
    ConnectionsService,
    DeliveriesService,
    DomainEventsService,
    RateLimitsService,
    SubscriptionsService,
)

HEADER = """# Hooks reference

<!-- Generated from core/hookspecs.py by `intellectra-integrations docs hooks`; do not edit by hand. -->

Plugins implement these hooks with `@core.hookimpl` (pluggy project name `intellectra`). Import everything
from `core`. Addressed hooks are called only for the integration that owns them; broadcast hooks reach
every loaded plugin; host-app hooks are answered by the first implementation that returns a value.

"""


def hook_names() -> list[str]:
    return [name for name, obj in vars(hookspecs).items()
            if callable(obj) and hasattr(obj, f"{hookspecs.PROJECT_NAME}_spec")]


def kind_of(name: str) -> str:
    spec_opts = getattr(getattr(hookspecs, name), f"{hookspecs.PROJECT_NAME}_spec")
    if name in hookspecs.ADDRESSED_HOOKS:
        return "addressed"
    if spec_opts.get("firstresult"):
        return "host app, first result"
    return "broadcast"


def render() -> str:
    module_doc = inspect.cleandoc(hookspecs.__doc__ or "")
    parts = [HEADER, module_doc, "\n\n## Contents\n\n"]
    parts += [f"- [`{n}`](#{n}) — {kind_of(n)}\n" for n in hook_names()]
    parts.append("- [The plugin context (`ctx`)](#the-plugin-context-ctx)\n")
    for name in hook_names():
        func = getattr(hookspecs, name)
        signature = str(inspect.signature(func)).replace("'", "")
        doc = inspect.cleandoc(func.__doc__ or "")
        parts.append(f"\n## {name}\n\n*{kind_of(name)}*\n\n```python\ndef {name}{signature}\n```\n\n{doc}\n")
    parts.append(render_context())
    return "".join(parts)


SERVICES = {cls.__name__: cls for cls in (ApiKeysService, SubscriptionsService, RateLimitsService,
                                          DeliveriesService, DomainEventsService, ConnectionsService)}
"""Service groups the context hands out (``ctx.api_keys``...), listed with their methods."""


def summary(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _call(name: str, func: Callable[..., object]) -> str:
    signature = inspect.signature(func)
    params = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values() if p.name != "self"]
    bare = signature.replace(parameters=params, return_annotation=inspect.Signature.empty)
    return f"{'await ' if inspect.iscoroutinefunction(func) else ''}{name}{bare}"


def public_members(cls: type) -> list[tuple[str, object]]:
    return [(n, m) for n, m in vars(cls).items() if not n.startswith("_") and (callable(m) or isinstance(m, property))]


def render_context() -> str:
    """The reference of ``IntegrationContext``, from its docstrings and those of its service groups."""
    parts = ["\n## The plugin context (`ctx`)\n\n", inspect.cleandoc(IntegrationContext.__doc__ or ""), "\n\n"]
    for name, member in public_members(IntegrationContext):
        if isinstance(member, property):
            parts.append(f"- `ctx.{name}` — {summary(member)}\n")
            group = SERVICES.get(str(member.fget.__annotations__.get("return", "")) if member.fget else "")
            for method_name, method in public_members(group) if group else []:
                assert callable(method)
                parts.append(f"  - `{_call(f'ctx.{name}.{method_name}', method)}` — {summary(method)}\n")
        elif callable(member):
            parts.append(f"- `{_call(f'ctx.{name}', member)}` — {summary(member)}\n")
    return "".join(parts)


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
