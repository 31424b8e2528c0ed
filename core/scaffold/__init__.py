"""``intellectra-integrations new-plugin``: an installable plugin package to fill in, hook by hook.

    names = PluginNames.parse("acme_crm")
    create_plugin(names, Path("intellectra-acme-crm"))

Every integration hook in the skeleton raises "not implemented yet: <hook> — see
docs/writing-a-plugin.md#..." and the generated tests fail with those messages until the author
writes the hooks, so the test run is the author's to-do list.
"""

from core.scaffold.generator import FILES, create_plugin, render_skeleton
from core.scaffold.names import GUIDE, HOOK_ANCHORS, PluginNames, ScaffoldError

__all__ = ["FILES", "GUIDE", "HOOK_ANCHORS", "PluginNames", "ScaffoldError", "create_plugin", "render_skeleton"]
