"""Flags shared by many commands, and the one place CLI flags become settings."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from audiencesync.app.workspace import Workspace
    from audiencesync.settings import Settings

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Data folder (env AUDIENCESYNC_HOME, default ./.audiencesync).",
        show_default=False,
    ),
]
AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act as this user (env AUDIENCESYNC_USER; default: the first admin).",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")
]


def settings_for(home: Path | None, user: str | None = None) -> Settings:
    """Settings from the flags given, then the environment, then defaults."""
    from audiencesync.settings import load_settings

    return load_settings(home=home, user=user)


def workspace_for(
    home: Path | None, user: str | None = None
) -> AbstractContextManager[Workspace]:
    """The data folder opened as the acting user of the flags given.

    The service layer is imported here, when a command runs, so that no help page
    loads it (design section 8).
    """
    from audiencesync.app.workspace import open_workspace

    return open_workspace(settings_for(home, user))
