"""``new-plugin``: start a third-party integration from a skeleton that installs and tests."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    @cli.command("new-plugin")
    @click.argument("name")
    @click.option("--directory", "directory", type=click.Path(path_type=Path),
                  help="Folder to create (default: ./intellectra-NAME with - for _). Never overwritten.")
    @click.option("--title", help="What the settings page calls it (default: NAME in title case).")
    def new_plugin(name: str, directory: Path | None, title: str | None) -> None:
        """Write an installable plugin package for the integration NAME (e.g. acme_crm).

        The package has the entry point, a config class, every hook stubbed to raise "not
        implemented yet", and tests (the test kit's conformance suite and one test per hook) that
        fail with those messages until you fill the hooks in.
        """
        from core.scaffold import GUIDE, PluginNames, create_plugin

        names = PluginNames.parse(name, title)
        target = directory or Path(names.distribution)
        written = create_plugin(names, target)
        click.echo(f"Created {target}/ — the {names.name!r} integration ({names.distribution}):")
        for path in written:
            click.echo(f"  {path.relative_to(target).as_posix()}")
        click.echo("\nNext:")
        click.echo(f"  cd {target}")
        click.echo('  pip install -e ".[test]"')
        click.echo('  pytest        # fails with "not implemented yet: <hook>" until you write each hook')
        click.echo(f"Guide: {GUIDE}")
