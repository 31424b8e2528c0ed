"""Writing ``docs/hooks.md`` from the hook specs' docstrings (one source of truth)."""

from __future__ import annotations

import inspect
from pathlib import Path

from core import hookspecs

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
    for name in hook_names():
        func = getattr(hookspecs, name)
        signature = str(inspect.signature(func)).replace("'", "")
        doc = inspect.cleandoc(func.__doc__ or "")
        parts.append(f"\n## {name}\n\n*{kind_of(name)}*\n\n```python\ndef {name}{signature}\n```\n\n{doc}\n")
    return "".join(parts)


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
