"""What readers are told about runs is true: removed exports, dead runs, dry runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from audiencesync.app.running import resume_run, run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.auth.roles import Role
from audiencesync.errors import AccessDeniedError, ConflictError
from audiencesync.settings import load_settings
from audiencesync.store.models import utc_now
from audiencesync.store.runs import Run
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.lock import acquire
from audiencesync.sync.records import create_run, start
from audiencesync.sync.run_history import RunHistory
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, Place, make_place

pytestmark = pytest.mark.socket

ROOT = Path(__file__).parent.parent.parent
KILLED_AFTER_FIRST_BATCH = """
import os, signal, sys
from audiencesync.settings import load_settings
from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from tests.sync.place import EXPORT, OnBatch

def die():
    os.kill(os.getpid(), signal.SIGKILL)

with open_workspace(load_settings(home=sys.argv[1])) as workspace:
    run_export(workspace, EXPORT, progress=OnBatch(1, die))
"""


def _history(place: Place, user: str | None = None) -> RunHistory:
    with open_workspace(load_settings(home=place.settings.home, user=user)) as opened:
        return RunHistory(opened.database, opened.actor)


def _remove_export(place: Place) -> None:
    with open_workspace(place.settings) as workspace:
        workspace.exports.remove(EXPORT)


def _killed_run(place: Place) -> int:
    """Run the export in a child process that SIGKILLs itself after a batch."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    child = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, "-c", KILLED_AFTER_FIRST_BATCH, str(place.settings.home)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    with open_workspace(place.settings) as workspace:
        with workspace.database.session() as session:
            run = session.scalars(select(Run).order_by(Run.id.desc())).first()
        assert run is not None
        assert run.status == RunStatus.RUNNING.code  # nobody marked it yet
        return run.id


def _running_elsewhere(place: Place) -> int:
    """A Running run whose holder, on another host, renewed its lease just now."""
    with open_workspace(place.settings) as workspace:
        with workspace.database.session() as session:
            export_id = find_export(session, EXPORT).id
            run_id = create_run(session, export_id, trigger="manual",
                                requested_by="admin").id  # fmt: skip
        acquire(workspace.database, export_id, run_id, holder="elsewhere:1")
        with workspace.database.session() as session:
            start(session, run_id)
    return run_id


@pytest.fixture
def killed(place: Place) -> int:
    """The id of a run whose process was SIGKILLed after its first batch."""
    return _killed_run(place)


# --- item 8: runs outlive their export ------------------------------------------


def test_a_removed_exports_runs_are_listed_as_removed(place: Place) -> None:
    """Removing an export keeps its runs; they show its name, marked removed."""
    first = place.run()
    _remove_export(place)

    runs = _history(place).list_all(export=EXPORT)

    assert [run.id for run in runs] == [first.id]
    assert runs[0].export_label == f"{EXPORT} (removed)"
    assert runs[0].export_removed
    assert [run.id for run in _history(place).list_all()] == [first.id]


def test_run_ids_are_never_reused_after_an_export_is_removed(place: Place) -> None:
    """The next export's first run gets a new number, never a removed export's."""
    first = place.run()
    _remove_export(place)
    with open_workspace(place.settings) as workspace:
        workspace.exports.add("Weekly", connection="Iterable", email_field="email",
                              segments=["France"])  # fmt: skip
        run = run_export(workspace, "Weekly")

    assert run.id == first.id + 1
    assert _history(place).show(first.id).export_label == f"{EXPORT} (removed)"


def test_only_administrators_read_a_removed_exports_rejects(place: Place) -> None:
    """With no connection left to judge by, a contributor is refused."""
    first = place.run()
    with open_workspace(place.settings) as workspace:
        workspace.users.add("cora", role=Role.CONTRIBUTOR)
    _remove_export(place)

    with pytest.raises(AccessDeniedError, match="which was removed"):
        _history(place, "cora").rejects(first.id)
    assert [row.bucket for row in _history(place).rejects(first.id)] == [
        "invalid_in_source",
        "invalid_in_source",
    ]


def test_a_removed_exports_run_cannot_be_resumed(place: Place, killed: int) -> None:
    """Its plan has no export to go to any more: refused, not sent elsewhere."""
    _remove_export(place)
    with open_workspace(place.settings) as workspace:
        workspace.exports.add(EXPORT, connection="Iterable", email_field="email",
                              segments=["France"])  # fmt: skip
        with pytest.raises(ConflictError, match="which was removed"):
            resume_run(workspace, killed)


def test_a_running_export_is_not_removed(place: Place) -> None:
    """Its run would go on sending for an export that is gone: refused."""
    run_id = _running_elsewhere(place)

    with (
        open_workspace(place.settings) as workspace,
        pytest.raises(ConflictError, match=f"is running \\(run {run_id}\\)"),
    ):
        workspace.exports.remove(EXPORT)
    assert _history(place).show(run_id).export_label == EXPORT


# --- item 10: a dead run reads Interrupted everywhere ---------------------------


def test_a_sigkilled_run_reads_interrupted_in_the_history(
    place: Place, killed: int
) -> None:
    """runs list and runs show say Interrupted (resumable), not Running."""
    listed = {run.id: run for run in _history(place).list_all()}[killed]
    shown = _history(place).show(killed)

    assert listed.status is RunStatus.INTERRUPTED
    assert shown.status is RunStatus.INTERRUPTED
    assert "process running it stopped" in (shown.error or "")
    assert RunStatus.RUNNING not in {part.status for part in shown.segments}


def test_a_sigkilled_run_is_the_exports_interrupted_last_run(
    place: Place, killed: int
) -> None:
    """exports show names the killed run as the last run, Interrupted."""
    with open_workspace(place.settings) as workspace:
        last = workspace.exports.get(EXPORT).last_run

    assert last is not None
    assert (last.id, last.status) == (killed, "Interrupted (resumable)")


def test_a_run_whose_lease_expired_reads_interrupted(place: Place) -> None:
    """A holder on another host that stopped renewing: Interrupted on read."""
    long_ago = utc_now() - timedelta(hours=1)
    with open_workspace(place.settings) as workspace:
        with workspace.database.session() as session:
            export_id = find_export(session, EXPORT).id
            run_id = create_run(session, export_id, trigger="manual",
                                requested_by="admin").id  # fmt: skip
        acquire(workspace.database, export_id, run_id, holder="elsewhere:1",
                now=long_ago)  # fmt: skip
        with workspace.database.session() as session:
            start(session, run_id, now=long_ago)

    assert _history(place).show(run_id).status is RunStatus.INTERRUPTED


def test_a_run_that_holds_a_live_lease_reads_running(place: Place) -> None:
    """A run of another host whose lease is fresh is still Running."""
    run_id = _running_elsewhere(place)

    assert _history(place).show(run_id).status is RunStatus.RUNNING


# --- item 11: dry runs are not real runs ----------------------------------------


def test_a_dry_run_never_becomes_the_last_run(place: Place) -> None:
    """After a run and a dry run, the export's last run is the real one."""
    real = place.run()
    with open_workspace(place.settings) as workspace:
        dry = run_export(workspace, EXPORT, dry_run=True)
        info = workspace.exports.get(EXPORT)
        listed = workspace.exports.list_all()

    assert dry.dry_run
    assert info.last_run is not None
    assert (info.last_run.id, info.last_run.status) == (real.id, str(real.status))
    assert [e.last_run.id for e in listed if e.last_run] == [real.id]


def test_an_export_that_only_had_dry_runs_has_no_last_run(tmp_path: Path) -> None:
    """A dry run alone leaves "none yet"."""
    with make_place(tmp_path) as place, open_workspace(place.settings) as workspace:
        run_export(workspace, EXPORT, dry_run=True)
        info = workspace.exports.get(EXPORT)

    assert (info.last_run, info.last_run_status) == (None, "none yet")
