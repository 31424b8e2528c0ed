"""The deployment's event catalogue: every domain event type core and the loaded plugins declare.

Assembled while plugins load (the ``event_types`` hook): core's vocabulary first (a built-in plugin),
then each plugin's declarations, checked before they are accepted. A type belongs to the plugin
that declared it first; a later declaration of the same name fails that later plugin, never the
owner. Validation, examples, subscriptions' filters and every listing read the catalogue.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import cattrs

from core.converter import converter, format_errors
from core.errors import PluginError, ValidationFailed
from core.events import EventType

EVENT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
CORE = "core"
"""The owner of the platform's own vocabulary (the built-in plugin that declares it)."""


def _whose(owner: str) -> str:
    return "core (the platform's vocabulary)" if owner == CORE else f"the {owner!r} plugin"


def check_declaration(declared: object) -> list[EventType]:
    """What an ``event_types`` hook returned, as checked :class:`EventType` items (or a clear error)."""
    if declared is None:
        return []
    if isinstance(declared, str | bytes | Mapping) or not isinstance(declared, Sequence):
        raise PluginError("event_types() must return a list of core.EventType, not "
                          f"{type(declared).__name__}", code="event_type_invalid")
    checked: list[EventType] = []
    for item in declared:
        if not isinstance(item, EventType):
            raise PluginError(f"event_types() returned {type(item).__name__}, expected core.EventType",
                              code="event_type_invalid")
        _check_one(item)
        if any(t.name == item.name for t in checked):
            raise PluginError(f"event_types() declares {item.name!r} twice", code="event_type_invalid")
        checked.append(item)
    return checked


def _check_one(spec: EventType) -> None:
    def invalid(problem: str) -> PluginError:
        return PluginError(f"event type {spec.name}: {problem}", code="event_type_invalid")

    if not isinstance(spec.name, str) or not EVENT_NAME_RE.match(spec.name):
        raise PluginError(f"{spec.name!r} is not a valid event type name: use lowercase dotted words, "
                          "e.g. 'acme_pay.sale_held'", code="event_type_invalid")
    if not isinstance(spec.title, str) or not spec.title.strip():
        raise invalid("give it a title (what creators read, e.g. 'Sale held for review')")
    if isinstance(spec.version, bool) or not isinstance(spec.version, int) or spec.version < 1:
        raise invalid(f"version must be a whole number >= 1, not {spec.version!r}")
    if not isinstance(spec.schema, type) or not attrs.has(spec.schema):
        raise invalid(f"schema must be an attrs class (the payload's fields), not {spec.schema!r}")
    try:
        converter.structure(dict(spec.example), spec.schema)
    except (cattrs.BaseValidationError, cattrs.ForbiddenExtraKeysError, ValueError, TypeError) as exc:
        raise invalid("its example does not fit its schema: " + "; ".join(format_errors(exc, "example"))) from exc


class EventCatalogue(Mapping[str, EventType]):
    """Read like a mapping ``{name: EventType}`` in declaration order; :meth:`owner` says who declared each."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()  # plugins load on one thread, but tests register while workers read

    def __getitem__(self, name: str) -> EventType:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._types))

    def __len__(self) -> int:
        return len(self._types)

    def owner(self, name: str) -> str:
        """The plugin that declared ``name`` (``"core"`` for the platform's vocabulary)."""
        return self._owners[name]

    def require(self, name: str) -> EventType:
        """The type called ``name``, or a :class:`ValidationFailed` listing the types there are."""
        spec = self._types.get(name)
        if spec is None:
            raise ValidationFailed(f"Unknown domain event type {name!r}; known types: {', '.join(sorted(self))}.",
                                   code="event_type_unknown")
        return spec

    def validate(self, name: str, data: Any) -> dict[str, Any]:
        """``data`` (a payload instance or a mapping) checked against the type's schema, as JSON-able fields."""
        spec = self.require(name)
        if attrs.has(type(data)):
            if not isinstance(data, spec.schema):
                raise ValidationFailed(f"{name} takes a {spec.schema.__name__} payload, not {type(data).__name__}.",
                                       code="event_payload_invalid")
            return dict(converter.unstructure(data))
        try:
            return dict(converter.unstructure(converter.structure(dict(data), spec.schema)))
        except (cattrs.BaseValidationError, cattrs.ForbiddenExtraKeysError, ValueError, TypeError) as exc:
            raise ValidationFailed(f"Invalid {name} payload: " + "; ".join(format_errors(exc, "data")),
                                   code="event_payload_invalid") from exc

    def declare(self, owner: str, declared: object) -> list[EventType]:
        """Add what ``owner``'s ``event_types`` returned: all of it, or nothing and a :class:`PluginError`."""
        checked = check_declaration(declared)
        with self._lock:
            for spec in checked:
                taken_by = self._owners.get(spec.name)
                if taken_by is not None and taken_by != owner:
                    raise PluginError(
                        f"declares event type {spec.name!r}, which {_whose(taken_by)} already declares; a type "
                        f"has one owner. Emit that type without declaring it, or name yours "
                        f"'{owner}.{spec.name.rsplit('.', 1)[-1]}'", code="event_type_conflict")
            for spec in checked:
                self._types[spec.name] = spec
                self._owners[spec.name] = owner
        return checked

    def withdraw(self, owner: str) -> None:
        """Forget every type ``owner`` declared (the plugin was unregistered or failed to load)."""
        with self._lock:
            for name in [n for n, o in self._owners.items() if o == owner]:
                del self._types[name], self._owners[name]

    def declared_by(self, owner: str) -> list[EventType]:
        return [self._types[n] for n, o in self._owners.items() if o == owner]
