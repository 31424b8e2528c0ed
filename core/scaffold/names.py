"""The names a new plugin is known by, all derived from the one integration name the author picks."""

from __future__ import annotations

import keyword
import re

import attrs

from core.errors import ValidationFailed
from core.registry import NAME_RE

GUIDE = "docs/writing-a-plugin.md"
"""The tutorial every "not implemented yet" message points to (anchors below)."""

HOOK_ANCHORS: dict[str, str] = {
    "integration_info": "the-integration_info-hook",
    "connect": "the-connect-hook",
    "complete_connect": "the-complete_connect-hook",
    "status": "the-status-hook",
    "disconnect": "the-disconnect-hook",
    "verify_webhook": "the-verify_webhook-hook",
    "handle_event": "the-handle_event-hook",
    "on_domain_event": "the-on_domain_event-hook",
    "diagnostics": "the-diagnostics-hook",
}
"""Section of the guide that explains each hook (GitHub-style heading slugs)."""


class ScaffoldError(ValidationFailed):
    """``new-plugin`` cannot do what was asked (bad name, folder in the way)."""

    code = "scaffold_refused"


@attrs.frozen(kw_only=True)
class PluginNames:
    """``acme_crm`` → distribution ``intellectra-acme-crm``, package ``intellectra_acme_crm``, ``AcmeCrm``."""

    name: str
    title: str

    @property
    def distribution(self) -> str:
        return "intellectra-" + self.name.replace("_", "-")

    @property
    def package(self) -> str:
        return "intellectra_" + self.name

    @property
    def class_prefix(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_") if part)

    @classmethod
    def parse(cls, name: str, title: str | None = None) -> PluginNames:
        """Check ``name`` the way the registry will; suggest a valid spelling when it is not."""
        if not NAME_RE.match(name) or keyword.iskeyword(name) or name.endswith("_"):
            suggestion = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
            if suggestion and not suggestion[0].isalpha():
                suggestion = f"x_{suggestion}"
            hint = f" such as {suggestion!r}" if suggestion and NAME_RE.match(suggestion) else ""
            raise ScaffoldError(
                f"{name!r} cannot be an integration name: use lowercase letters, digits and _, starting with a "
                f"letter (at most 63 characters){hint}. It becomes the registry key, the entry point name and "
                "the package intellectra_<name>.", code="plugin_name_invalid")
        return cls(name=name, title=(title or name.replace("_", " ").title()).strip())
