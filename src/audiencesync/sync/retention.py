"""Run files: removed once no resume can need them; reports after the retention.

A run writes per segment, under ``<home>/sync/runs/<run>/<binding>/``, its plan
(every member's identifiers and fields), the final identifiers, a prepared state,
and two reports: the invalid rows and the rejected rows. Only a pass over the
same run reads them again: a resume (Interrupted, Failed (retrying)) or an
approval (Held). So:

- once a run is over for good (Succeeded, Succeeded with rejects, Failed
  (permanent), Canceled), its plan files go at once: nothing can resume it;
- its reports stay for ``retention_days`` after it finished (for a person to
  look into; the same rows are in the run's rejects), then the folder goes;
- a folder whose run no longer exists goes too; Held, Interrupted and Failed
  (retrying) runs keep everything until they end;
- a sync state file (``<home>/sync/state/<binding>.parquet``, every member the
  list holds because of us) goes once its binding is gone (its export was
  removed): nothing may read it again; so does its plan memo
  (``<home>/sync/memo/<binding>/``, :mod:`audiencesync.sync.plan_memo`).

The run rows, their counts and rejects stay in the database. :func:`tidy_run_files`
runs at the end of every run and on every pass of ``serve``; it never fails its
caller (a file it cannot remove is left for the next pass).
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.store.runs import Binding, Run
from audiencesync.sync.plan import INVALID_FILE
from audiencesync.sync.reject_files import drop_unused
from audiencesync.sync.sending import REJECTED_FILE
from audiencesync.sync.state import remove_state
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.store.database import Database

logger = logging.getLogger(__name__)

REPORT_FILES = frozenset({INVALID_FILE, REJECTED_FILE})


def runs_folder(home: Path) -> Path:
    """Where runs keep their files, one folder per run id."""
    return home / "sync" / "runs"


def tidy_run_files(
    database: Database, home: Path, *, retention_days: int, now: datetime
) -> None:
    """Remove what finished runs no longer need (never raises on a file error)."""
    try:
        sweep_run_files(database, home, now=now, retention_days=retention_days)
    except OSError as exc:
        logger.warning("run files could not be tidied: %s", type(exc).__name__)


def sweep_run_files(
    database: Database, home: Path, *, now: datetime, retention_days: int
) -> list[int]:
    """Apply the rules above; the ids of the runs whose folder was removed."""
    _drop_orphan_states(database, home)
    with database.session() as session:
        drop_unused(session)
    folders = _run_folders(runs_folder(home))
    if not folders:
        return []
    with database.session() as session:
        rows = session.execute(
            select(Run.id, Run.status, Run.finished_at).where(Run.id.in_(folders))
        )
        runs = {
            row.id: (RunStatus.from_code(row.status), row.finished_at) for row in rows
        }
    cutoff = now - timedelta(days=retention_days)
    removed = []
    for run_id, folder in sorted(folders.items()):
        status, finished = runs.get(run_id, (None, None))
        if status is None or (
            status.is_terminal and (finished is None or finished <= cutoff)
        ):
            shutil.rmtree(folder)
            removed.append(run_id)
        elif status.is_terminal:
            _drop_plans(folder)
    return removed


def _drop_orphan_states(database: Database, home: Path) -> None:
    """Remove the sync states and plan memos of bindings that no longer exist."""
    states = home / "sync" / "state"
    found = {
        binding_id: states / f"{binding_id}.parquet"
        for path in (states.glob("*.parquet") if states.is_dir() else ())
        if (binding_id := _state_owner(path)) is not None
    }
    memos = home / "sync" / "memo"
    found_memos = _run_folders(memos)
    if not found and not found_memos:
        return
    with database.session() as session:
        ids = set(found) | set(found_memos)
        alive = set(session.scalars(select(Binding.id).where(Binding.id.in_(ids))))
    for binding_id, path in found.items():
        if binding_id not in alive:
            remove_state(path)
    for binding_id, folder in found_memos.items():
        if binding_id not in alive:
            shutil.rmtree(folder, ignore_errors=True)


def _state_owner(path: Path) -> int | None:
    """The binding a state file (``12.parquet``, ``12.changes.parquet``) is of."""
    owner, _, rest = path.name.partition(".")
    if not owner.isdigit() or rest not in _STATE_SUFFIXES:
        return None
    if not path.is_file() or path.is_symlink():
        return None
    return int(owner)


_STATE_SUFFIXES = ("parquet", "changes.parquet")


def _run_folders(folder: Path) -> dict[int, Path]:
    if not folder.is_dir():
        return {}
    return {
        int(entry.name): entry
        for entry in folder.iterdir()
        if entry.name.isdigit() and entry.is_dir() and not entry.is_symlink()
    }


def _drop_plans(folder: Path) -> None:
    """Remove every file of a finished run but its reports."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.name not in REPORT_FILES:
            path.unlink(missing_ok=True)
