"""``audiencesync walkthrough``: a printed tour of the client and the emulator."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

DEFAULT_PROFILES = 50_000


def register(app: typer.Typer) -> None:
    """Add the ``walkthrough`` command to ``app``."""

    @app.command("walkthrough")
    def walkthrough(
        profiles: int = typer.Option(
            DEFAULT_PROFILES, min=1, help="Sample profiles to subscribe."
        ),
    ) -> None:
        """Tour the Iterable client against the bundled emulator (what make demo runs).

        Example: audiencesync walkthrough --profiles 5000
        """
        from audiencesync.demo.walkthrough import TourSettings, run_tour

        console = Console(highlight=False)

        def say(step: str, detail: str) -> None:
            console.print(f"[bold cyan]{step:>12}[/]  {detail}")

        leavers = profiles // 10
        asyncio.run(run_tour(say, TourSettings(profiles=profiles, leavers=leavers)))
