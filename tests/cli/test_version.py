"""The CLI's entry points."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from audiencesync import __version__
from audiencesync.cli import app


def test_version_flag_prints_the_package_version() -> None:
    """``--version`` prints the installed version."""
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"audiencesync {__version__}"


def test_module_entry_point_runs_the_cli() -> None:
    """``python -m audiencesync`` is the same CLI."""
    done = subprocess.run(
        [sys.executable, "-m", "audiencesync", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"audiencesync {__version__}"
