"""Run the command line as the administrator over the API's data folder."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from audiencesync.cli import app
from audiencesync.settings import Settings


def cli_json(settings: Settings, *args: str) -> Any:
    """The decoded ``--json`` output of ``audiencesync ARGS --as admin``."""
    result = CliRunner().invoke(
        app,
        [*args, "--as", "admin", "--json"],
        env={"AUDIENCESYNC_HOME": str(settings.home)},
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
