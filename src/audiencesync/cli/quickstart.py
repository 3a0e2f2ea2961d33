"""``audiencesync quickstart``: the whole product on embedded defaults (make demo)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from audiencesync.cli.options import HomeOption, settings_for
from audiencesync.cli.render import print_table
from audiencesync.cli.runs import SUCCESS, bar, render_run
from audiencesync.cli.schedule import DEFAULT_HOST, DEFAULT_PORT, serve_until_stopped

if TYPE_CHECKING:
    from audiencesync.demo.quickstart import LandedList
    from audiencesync.settings import Settings
    from audiencesync.sync.history import RunInfo
    from audiencesync.sync.progress import RunProgress


class ConsoleDisplay:
    """The quickstart's steps as aligned lines, its run and lists as tables."""

    def __init__(self) -> None:
        self._console = Console(highlight=False)

    def step(self, step: str, detail: str) -> None:
        """One step, right-aligned name then what happened."""
        self._console.print(f"[bold cyan]{step:>12}[/]  {detail}")

    def running(self) -> AbstractContextManager[RunProgress]:
        """The bars of ``exports run`` on a terminal, nothing in a pipe."""
        return bar(as_json=False)

    def run(self, info: RunInfo) -> None:
        """The run, drawn exactly as ``exports run`` draws it."""
        from audiencesync.app.views.runs import RunView

        render_run(RunView.of(info), as_json=False)

    def landed(self, lists: Sequence[LandedList]) -> None:
        """Each list in Iterable: name, id, size and the rejects by bucket."""
        self._console.print("What landed in Iterable (read back from the emulator):")
        table = Table("List", "List id", "Members", "Size read from", "Rejects")
        for landed in lists:
            table.add_row(
                landed.name, str(landed.list_id), f"{landed.size:,}",
                landed.size_from, rejects_text(landed),
            )  # fmt: skip
        print_table(table)


def rejects_text(landed: LandedList) -> str:
    """``12 invalid in source; 3 forgotten`` or ``none``."""
    parts = []
    if landed.invalid_in_source:
        parts.append(f"{landed.invalid_in_source:,} invalid in source")
    parts += [f"{n:,} {bucket}" for bucket, n in sorted(landed.rejected.items()) if n]
    return "; ".join(parts) or "none"


def serve_default(settings: Settings) -> None:
    """What ``quickstart`` ends with: ``serve`` on its default address."""
    serve_until_stopped(settings, host=DEFAULT_HOST, port=DEFAULT_PORT)


DEFAULT_PROFILES = 50_000  # demo.quickstart's; help shows it without loading the demo


def register(app: typer.Typer) -> None:
    """Add the ``quickstart`` command to ``app``."""

    @app.command("quickstart")
    def quickstart(
        *,
        no_serve: Annotated[
            bool,
            typer.Option(
                "--no-serve", help="Stop when done instead of serving until Ctrl-C."
            ),
        ] = False,
        home: HomeOption = None,
        profiles: Annotated[
            int,
            typer.Option(
                "--profiles",
                min=1,
                help="Sample profiles (a sample of another size is made anew).",
            ),
        ] = DEFAULT_PROFILES,
    ) -> None:
        """Set up everything on embedded defaults, run an export, show what landed.

        Runs again in the same folder reuse what exists and send only changes.
        Example: audiencesync quickstart --no-serve --profiles 10000
        """
        from audiencesync.demo.quickstart import run_quickstart

        report = run_quickstart(
            settings_for(home),
            display=ConsoleDisplay(),
            profiles=profiles,
            serve=None if no_serve else serve_default,
            web_address=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/",
        )
        if report.run.status not in SUCCESS:
            raise typer.Exit(1)
