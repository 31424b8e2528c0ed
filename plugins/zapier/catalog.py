"""The trigger and action catalogue the Zapier app is built from, generated from the Python side.

``app/catalog.json`` (read by the JavaScript app) and the trigger reference in
``docs/plugins/zapier.md`` are written from ``core.EVENT_TYPES`` and the action input classes, so the
app, the docs and the host never drift; a test fails when either file is stale. Regenerate with::

    python -m plugins.zapier.catalog --write
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

import attrs

from core import EVENT_TYPES
from plugins.zapier.actions import ACTIONS
from plugins.zapier.info import NAME

APP_DIR = Path(__file__).parent / "app"
CATALOG_PATH = APP_DIR / "catalog.json"
DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "plugins" / "zapier.md"
DOCS_START, DOCS_END = "<!-- triggers:start -->", "<!-- triggers:end -->"
FILTERABLE = ("offer_id", "course_id", "integration")
"""Payload fields a Zap can narrow a trigger to (only one offer, course or integration)."""
EXAMPLE_TENANT = "tn_example"
EXAMPLE_TIME = "2026-01-01T12:00:00Z"
ZAPIER_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _label(name: str) -> str:
    words = name.replace("_", " ").split()
    return " ".join(w.upper() if w in ("id", "url") else w.capitalize() if i == 0 else w
                    for i, w in enumerate(words))


def _zapier_type(annotation: Any) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType | typing._UnionGenericAlias) and len(args) == 1:  # type: ignore[attr-defined]
        annotation = args[0]
    return ZAPIER_TYPES.get(annotation, "string")


def _fields(cls: type[Any]) -> list[attrs.Attribute[Any]]:
    return list(attrs.fields(attrs.resolve_types(cls)))


def trigger(event_type: str) -> dict[str, Any]:
    spec = EVENT_TYPES[event_type]
    fields = _fields(spec.schema)
    sample = {"id": f"ev_example_{event_type.replace('.', '_')}", "type": event_type, "version": spec.version,
              "occurred_at": EXAMPLE_TIME, "tenant_id": EXAMPLE_TENANT,
              "data": {f.name: spec.example.get(f.name, None if f.default is attrs.NOTHING else f.default)
                       for f in fields}}
    output = [{"key": "id", "label": "Event ID", "type": "string"},
              {"key": "type", "label": "Event type", "type": "string"},
              {"key": "version", "label": "Payload version", "type": "integer"},
              {"key": "occurred_at", "label": "Occurred at", "type": "datetime"},
              {"key": "tenant_id", "label": "Site ID", "type": "string"}]
    output += [{"key": f"data__{f.name}", "label": _label(f.name), "type": _zapier_type(f.type)} for f in fields]
    filters = [{"key": f.name, "label": _label(f.name), "required": False,
                "helpText": f"Only trigger for this {_label(f.name).lower()} (leave empty for all)."}
               for f in fields if f.name in FILTERABLE]
    return {"key": event_type.replace(".", "_"), "event": event_type, "version": spec.version,
            "noun": spec.title.split()[0], "label": f"New {spec.title}",
            "description": f"Triggers when a {event_type} event happens on your site ({spec.title.lower()}).",
            "filters": filters, "sample": sample, "output_fields": output}


def action(name: str) -> dict[str, Any]:
    spec = ACTIONS[name]
    inputs = [{"key": f.name, "label": f.metadata.get("label", _label(f.name)), "type": _zapier_type(f.type),
               "required": f.default is attrs.NOTHING, "helpText": f.metadata.get("help", "")}
              for f in _fields(spec.input)]
    return {"key": name, "noun": spec.noun, "label": spec.title, "description": spec.description,
            "input_fields": inputs,
            "sample": {"action": name, "status": "done"}}


def build() -> dict[str, Any]:
    return {"integration": NAME,
            "generated_by": "python -m plugins.zapier.catalog --write",
            "triggers": [trigger(t) for t in EVENT_TYPES],
            "actions": [action(a) for a in ACTIONS]}


def render_catalog() -> str:
    return json.dumps(build(), indent=2) + "\n"


def render_docs_section() -> str:
    lines = [DOCS_START, ""]
    for t in build()["triggers"]:
        filters = ", ".join(f"`{f['key']}`" for f in t["filters"]) or "none"
        lines += [f"### {t['label']} (`{t['event']}`, version {t['version']})", "",
                  f"{t['description']} Zapier trigger key `{t['key']}`; filters: {filters}.", "",
                  "```json", json.dumps(t["sample"], indent=2), "```", ""]
    lines.append(DOCS_END)
    return "\n".join(lines)


def docs_with_section(text: str) -> str:
    start, end = text.index(DOCS_START), text.index(DOCS_END) + len(DOCS_END)
    return text[:start] + render_docs_section() + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="Write app/catalog.json and the docs section.")
    args = parser.parse_args(argv)
    if not args.write:
        sys.stdout.write(render_catalog())
        return 0
    CATALOG_PATH.write_text(render_catalog())
    DOCS_PATH.write_text(docs_with_section(DOCS_PATH.read_text()))
    print(f"Wrote {CATALOG_PATH} and the trigger reference in {DOCS_PATH}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
