"""``Secret``: a string that never prints, for config values and credentials."""

from __future__ import annotations


class Secret:
    """A secret value: ``repr`` and ``str`` show ``***``; call ``reveal()`` where it is used.

    (Like pydantic's ``SecretStr``; written here because the host does not depend on pydantic.)
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
