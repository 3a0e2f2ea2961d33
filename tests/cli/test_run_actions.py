"""``runs resume | cancel | approve | discard`` refusals, the CSV and the bar."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from audiencesync.cli.progress import BarProgress
from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig, serve_in_thread
from tests.canary import CANARY_API_KEY

pytestmark = pytest.mark.socket

CUSTOMERS = """customer_id,email,country
C1,ana@example.com,FR
C2,=1+1,FR
"""
KEY_VARIABLE = "RUN_ACTIONS_TEST_ITERABLE_KEY"


@pytest.fixture
def url() -> Iterator[str]:
    """An emulator on a loopback port, knowing the canary key."""
    served = Emulator(EmulatorConfig(keys=(ApiKeySpec(CANARY_API_KEY),)))
    with serve_in_thread(served) as address:
        yield address


def _cli(home: Path, *args: str) -> Result:
    env = {"AUDIENCESYNC_HOME": str(home), KEY_VARIABLE: CANARY_API_KEY}
    return CliRunner().invoke(app, list(args), env=env)


def _ok(home: Path, *args: str) -> Result:
    result = _cli(home, *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def home(tmp_path: Path, url: str) -> Path:
    """A shared connection, an export, a viewer and a contributor; run 1 done."""
    folder = tmp_path / "home"
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    _ok(folder, "init")
    _ok(folder, "users", "add", "victor", "--role", "viewer")
    _ok(folder, "users", "add", "carla", "--role", "contributor")
    _ok(folder, "profiles", "import", str(source))
    _ok(folder, "segments", "create", "France", "--where", "country = 'FR'")
    _ok(folder, "connections", "add", "--name", "Iterable", "--api-key-env",
        KEY_VARIABLE, "--base-url", url, "--allow-contributors",
        "--i-agree")  # fmt: skip
    _ok(folder, "exports", "add", "--name", "Newsletter", "--connection", "Iterable",
        "--email-field", "email", "--segment", "France")  # fmt: skip
    _ok(folder, "exports", "run", "Newsletter")
    return folder


def test_viewers_cannot_cancel_runs(home: Path) -> None:
    """Cancel needs the right to run the export."""
    result = _cli(home, "runs", "cancel", "1", "--as", "victor")
    assert result.exit_code == 3
    assert "victor is a viewer and cannot run exports" in result.stderr


def test_contributors_cannot_approve_removals(home: Path) -> None:
    """Approving held removals is for administrators."""
    result = _cli(home, "runs", "approve", "1", "--as", "carla")
    assert result.exit_code == 3
    assert "approve or discard held removals" in result.stderr


def test_only_held_runs_can_be_approved(home: Path) -> None:
    """A run that is not Held has nothing to approve."""
    result = _cli(home, "runs", "approve", "1")
    assert result.exit_code == 2
    assert "not Held" in result.stderr


def test_a_finished_run_cannot_be_resumed(home: Path) -> None:
    """Resume is for Interrupted and Failed (retrying) runs."""
    result = _cli(home, "runs", "resume", "1")
    assert result.exit_code == 2
    assert "only Interrupted and Failed (retrying) runs" in result.stderr


def test_a_finished_run_cannot_be_canceled(home: Path) -> None:
    """There is nothing to cancel once a run is over."""
    result = _cli(home, "runs", "cancel", "1")
    assert result.exit_code == 2
    assert "already over" in result.stderr


def test_run_json_has_the_drift_check(home: Path) -> None:
    """The list size read back after the run matches the sync state."""
    run = json.loads(_ok(home, "runs", "show", "1", "--json").stdout)
    [segment] = run["segments"]
    assert (segment["expected_size"], segment["actual_size"]) == (1, 1)
    assert segment["drift"] == 0


def test_csv_cells_never_run_as_formulas(home: Path) -> None:
    """An identifier starting with '=' is written with a leading quote."""
    text = _ok(home, "runs", "rejects", "1", "--csv", "-").stdout
    assert "'=1+1" in text
    assert ",=1+1" not in text


def test_the_bar_shows_rows_and_an_eta_from_the_rate_budget() -> None:
    """2 calls/s of 1000 rows and 6000 rows left: three seconds."""
    sink = io.StringIO()
    console = Console(file=sink, force_terminal=True, width=120)
    with BarProgress(console) as bar:
        bar.segment_started("France", rows=7000)
        bar.advanced("France", rows=1000, rate=2.0)
    text = sink.getvalue()
    assert "France" in text
    assert "1000/7000" in text
    assert "ETA 0:00:03" in text
