"""Flags shared by many commands, and the one place CLI flags become settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audiencesync.settings import Settings, load_settings

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
    return load_settings(home=home, user=user)
