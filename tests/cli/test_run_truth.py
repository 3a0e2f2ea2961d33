"""What the run and export commands print is true (issue 11, items 9-12, 14, 16)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.app.workspace import open_workspace
from audiencesync.auth.roles import Role
from audiencesync.cli import app
from audiencesync.emulator import ScriptedFault
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.lock import acquire, holder_of, this_process
from audiencesync.sync.records import create_run, start
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, Place, make_place
from tests.sync.test_run_lifecycle import EXODUS

pytestmark = pytest.mark.socket

WAIT = 60.0


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    """Profiles, two segments, a shared connection to the emulator, an export."""
    with make_place(tmp_path) as made:
        yield made


def _cli(place: Place, *args: str) -> Result:
    env = {"AUDIENCESYNC_HOME": str(place.settings.home), "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def _ok(place: Place, *args: str) -> Result:
    result = _cli(place, *args)
    assert result.exit_code == 0, result.output
    return result


# --- item 9: exports show their last and next run -------------------------------


def test_exports_list_json_has_the_last_and_next_run(place: Place) -> None:
    """last_run holds the run's id, status and end; next_run is there too."""
    run = json.loads(_ok(place, "exports", "run", EXPORT, "--json").stdout)

    [export] = json.loads(_ok(place, "exports", "list", "--json").stdout)

    assert export["last_run"]["id"] == run["id"]
    assert export["last_run"]["status"] == run["status"]
    ended = datetime.fromisoformat(run["finished_at"])  # ISO 8601, Z or +00:00
    assert datetime.fromisoformat(export["last_run"]["finished_at"]) == ended
    assert export["last_run_status"] == run["status"]
    assert "next_run" in export


def test_exports_show_names_the_last_run(place: Place) -> None:
    """Not "none yet" once the export has run."""
    _ok(place, "exports", "run", EXPORT)

    text = _ok(place, "exports", "show", EXPORT).stdout

    assert "Last run: run 1, Succeeded with rejects, " in text


# --- item 11: dry runs and list columns say what happened -----------------------


def test_runs_list_marks_dry_runs(place: Place) -> None:
    """A dry run's row says it was one, and claims nothing added."""
    _ok(place, "exports", "run", EXPORT, "--dry-run")

    text = _ok(place, "runs", "list").stdout

    assert "manual, dry run" in text
    assert "— (dry run)" in text


def test_a_list_not_checked_yet_shows_its_id_alone(place: Place) -> None:
    """A run that failed before it checked its list shows the id, not "(None)"."""
    _ok(place, "exports", "run", EXPORT)
    place.emulator.script("lists", ScriptedFault(status=400), times=5)
    failed = _cli(place, "exports", "run", EXPORT)
    assert failed.exit_code == 1

    text = _ok(place, "runs", "show", "2").stdout

    assert "Failed (permanent)" in text
    assert "(None)" not in text
    assert "100001" in text


def test_runs_discard_says_removals_discarded_and_exits_0(place: Place) -> None:
    """A discarded Held run is not "Succeeded"; the discard itself worked."""
    place.run()
    place.reimport(EXODUS)
    assert place.run().status is RunStatus.HELD

    result = _cli(place, "runs", "discard", "2", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "Removals discarded"


# --- item 12: a failed run still prints its JSON --------------------------------


def test_a_failed_run_prints_its_json_then_exits_non_zero(place: Place) -> None:
    """exports run --json: the run (status, error) on stdout, exit 1."""
    place.emulator.script("lists/subscribe", ScriptedFault(status=400), times=5)

    result = _cli(place, "exports", "run", EXPORT, "--json")

    assert result.exit_code == 1
    run = json.loads(result.stdout)
    assert (run["id"], run["status"]) == (1, "Failed (permanent)")
    assert run["error"]
    assert "Run 1 failed" in result.stderr


def test_a_run_refused_by_the_lock_prints_its_json(place: Place) -> None:
    """Another run holds the export: the refused run (Canceled) on stdout, exit 2."""
    with open_workspace(place.settings) as workspace:
        with workspace.database.session() as session:
            export_id = find_export(session, EXPORT).id
            holder = create_run(session, export_id, trigger="manual",
                                requested_by="admin").id  # fmt: skip
        acquire(workspace.database, export_id, holder, holder=this_process())
        with workspace.database.session() as session:
            start(session, holder)

    result = _cli(place, "exports", "run", EXPORT, "--json")

    assert result.exit_code == 2
    run = json.loads(result.stdout)
    assert (run["id"], run["status"]) == (holder + 1, "Canceled")
    assert f"already running (run {holder}" in run["error"]


# --- item 16: --csv FILE is untouched on any error ------------------------------


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    """A file the user already had."""
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "report.csv"
    path.write_bytes(b"precious,bytes\n")
    return path


def test_rejects_of_a_missing_run_leave_the_file_alone(
    place: Place, kept: Path
) -> None:
    """The run does not exist: an error, and FILE keeps its bytes."""
    result = _cli(place, "runs", "rejects", "7", "--csv", str(kept))

    assert result.exit_code == 2
    assert kept.read_bytes() == b"precious,bytes\n"
    assert [p.name for p in kept.parent.iterdir()] == ["report.csv"]


def test_a_viewer_asking_for_rejects_leaves_the_file_alone(
    place: Place, kept: Path
) -> None:
    """A viewer is refused before FILE is touched."""
    _ok(place, "exports", "run", EXPORT)
    with open_workspace(place.settings) as workspace:
        workspace.users.add("vic", role=Role.VIEWER)

    result = _cli(place, "runs", "rejects", "1", "--csv", str(kept), "--as", "vic")

    assert result.exit_code == 3
    assert kept.read_bytes() == b"precious,bytes\n"


def test_rejects_replace_the_file_whole_and_owner_only(
    place: Place, kept: Path
) -> None:
    """The CSV replaces FILE at the end, readable by its owner only."""
    _ok(place, "exports", "run", EXPORT)

    _ok(place, "runs", "rejects", "1", "--csv", str(kept))

    assert kept.read_text(encoding="utf-8").startswith("segment,")
    assert kept.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in kept.parent.iterdir()] == ["report.csv"]


def test_rejects_into_a_missing_folder_is_one_line(
    place: Place, tmp_path: Path
) -> None:
    """No traceback: the error names the file."""
    _ok(place, "exports", "run", EXPORT)

    result = _cli(place, "runs", "rejects", "1", "--csv", str(tmp_path / "no/x.csv"))

    assert result.exit_code == 2
    assert "Cannot write" in result.stderr


# --- item 14: serve logs every run ----------------------------------------------


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def _wait_for(lines: queue.Queue[str], text: str) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=1))
        except queue.Empty:
            continue
        if text in seen[-1]:
            return seen
    pytest.fail(f"serve never printed {text!r}; it printed {seen!r}")


def _interrupted_run(place: Place) -> None:
    """Run 1, Running, held by a process of this host that is gone."""
    dead = subprocess.Popen(["true"])  # noqa: S607 - a process that is gone
    dead.wait()
    with open_workspace(place.settings) as workspace:
        with workspace.database.session() as session:
            export_id = find_export(session, EXPORT).id
            run_id = create_run(session, export_id, trigger="manual",
                                requested_by="admin").id  # fmt: skip
        holder = holder_of(dead.pid)
        acquire(workspace.database, export_id, run_id, holder=holder)
        with workspace.database.session() as session:
            start(session, run_id)


def test_serve_logs_each_run_started_and_ended(place: Place) -> None:
    """A run serve resumes gets a line when it starts and one when it ends."""
    _interrupted_run(place)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    env["AUDIENCESYNC_HOME"] = str(place.settings.home)
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen(
        [sys.executable, "-m", "audiencesync", "serve"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    ) as serve:
        threading.Thread(target=_lines, args=(serve.stderr, lines), daemon=True).start()
        try:
            seen = _wait_for(lines, "ended")
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=WAIT)

    started = [line for line in seen if "started" in line or "continued" in line]
    [ended] = [line for line in seen if "ended" in line]
    assert f"run 1 of export '{EXPORT}' continued (manual)" in started[0]
    assert "ended Succeeded with rejects: added 5, updated 0, removed 0" in ended
    assert "@" not in "".join(seen)  # no e-mail address
