"""The trigger and action catalogue the Zapier app is built from, generated from the Python side.

One trigger per type in the deployment's event catalogue (core's types and every loaded plugin's),
one action per action input class. ``app/catalog.json`` (read by the JavaScript app) and the trigger
reference in ``docs/plugins/zapier.md`` are written from the catalogue of the deployment a
``registry.toml`` describes, so the app, the docs and the host never drift; a test fails when
either file is stale for this repository's registry. Regenerate with::

    python -m plugins.zapier.catalog --write                      # this repository: app + docs
    python -m plugins.zapier.catalog --registry /etc/intellectra/registry.toml --catalog app/catalog.json

(the second for a deployment whose plugins declare event types of their own). The same triggers are
served live at ``GET /api/zapier/triggers``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from core import CatalogueView, EventCatalogue, EventType, load_event_catalogue
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


def _data_output_fields(field: attrs.Attribute[Any], value: Any) -> list[dict[str, str]]:
    """Zapier flattens nested objects as ``data__<field>__<key>``: one output field per key of the example."""
    if isinstance(value, Mapping):
        return [{"key": f"data__{field.name}__{key}", "label": f"{_label(field.name)}: {_label(key).capitalize()}",
                 "type": "string"} for key in value]
    return [{"key": f"data__{field.name}", "label": _label(field.name), "type": _zapier_type(field.type)}]


def trigger(spec: EventType, data: Mapping[str, Any]) -> dict[str, Any]:
    """The trigger for one event type; ``data`` is its example as the host delivers it (defaults filled)."""
    event_type = spec.name
    fields = _fields(spec.schema)
    sample = {"id": f"ev_example_{event_type.replace('.', '_')}", "type": event_type, "version": spec.version,
              "occurred_at": EXAMPLE_TIME, "tenant_id": EXAMPLE_TENANT, "data": dict(data)}
    output = [{"key": "id", "label": "Event ID", "type": "string"},
              {"key": "type", "label": "Event type", "type": "string"},
              {"key": "version", "label": "Payload version", "type": "integer"},
              {"key": "occurred_at", "label": "Occurred at", "type": "datetime"},
              {"key": "tenant_id", "label": "Site ID", "type": "string"}]
    output += [out for f in fields for out in _data_output_fields(f, data.get(f.name))]
    filters = [{"key": f.name, "label": _label(f.name), "required": False,
                "helpText": f"Only trigger for this {_label(f.name).lower()} (leave empty for all)."}
               for f in fields if f.name in FILTERABLE]
    return {"key": event_type.replace(".", "_"), "event": event_type, "version": spec.version,
            "noun": spec.title.split()[0], "label": f"New {spec.title}",
            "description": f"Triggers when a {event_type} event happens on your site ({spec.title.lower()}). "
                           f"{spec.description}".strip(),
            "filters": filters, "sample": sample, "output_fields": output}


def action(name: str) -> dict[str, Any]:
    spec = ACTIONS[name]
    inputs = [{"key": f.name, "label": f.metadata.get("label", _label(f.name)), "type": _zapier_type(f.type),
               "required": f.default is attrs.NOTHING, "helpText": f.metadata.get("help", "")}
              for f in _fields(spec.input)]
    return {"key": name, "noun": spec.noun, "label": spec.title, "description": spec.description,
            "input_fields": inputs,
            "sample": {"action": name, "status": "done"}}


def build(catalogue: EventCatalogue | CatalogueView) -> dict[str, Any]:
    """The app's catalogue for a deployment whose event catalogue is ``catalogue`` (``ctx.event_types``)."""
    return {"integration": NAME,
            "generated_by": "python -m plugins.zapier.catalog --write",
            "triggers": [trigger(spec, catalogue.validate(name, spec.example)) for name, spec in catalogue.items()],
            "actions": [action(a) for a in ACTIONS]}


def render_catalog(catalogue: EventCatalogue) -> str:
    return json.dumps(build(catalogue), indent=2) + "\n"


def render_docs_section(catalogue: EventCatalogue) -> str:
    lines = [DOCS_START, ""]
    for t in build(catalogue)["triggers"]:
        filters = ", ".join(f"`{f['key']}`" for f in t["filters"]) or "none"
        lines += [f"### {t['label']} (`{t['event']}`, version {t['version']})", "",
                  f"{t['description']} Zapier trigger key `{t['key']}`; filters: {filters}.", "",
                  "```json", json.dumps(t["sample"], indent=2), "```", ""]
    lines.append(DOCS_END)
    return "\n".join(lines)


def docs_with_section(text: str, catalogue: EventCatalogue) -> str:
    start, end = text.index(DOCS_START), text.index(DOCS_END) + len(DOCS_END)
    return text[:start] + render_docs_section(catalogue) + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path,
                        help="The deployment's registry.toml (default: $INTELLECTRA_REGISTRY or ./registry.toml).")
    parser.add_argument("--write", action="store_true", help="Write app/catalog.json and the docs section.")
    parser.add_argument("--catalog", type=Path, help="Write the catalogue to this file (and nothing else).")
    args = parser.parse_args(argv)
    logging.getLogger("intellectra.plugins").disabled = True  # failures are reported below, once
    catalogue, failed = load_event_catalogue(args.registry)
    for name, error in failed.items():
        print(f"warning: plugin {name} did not load, so its event types are not in the catalogue: {error}",
              file=sys.stderr)
    if args.catalog:
        args.catalog.write_text(render_catalog(catalogue))
        print(f"Wrote {args.catalog}.")
    elif args.write:
        CATALOG_PATH.write_text(render_catalog(catalogue))
        DOCS_PATH.write_text(docs_with_section(DOCS_PATH.read_text(), catalogue))
        print(f"Wrote {CATALOG_PATH} and the trigger reference in {DOCS_PATH}.")
    else:
        sys.stdout.write(render_catalog(catalogue))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
