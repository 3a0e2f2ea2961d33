"""``audiencesync emulator``: serve the local Iterable emulator (placeholder)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``emulator`` command to ``app``."""

    @app.command("emulator")
    def emulator() -> None:
        """Serve a local Iterable emulator."""
        raise typer.Exit(1)
