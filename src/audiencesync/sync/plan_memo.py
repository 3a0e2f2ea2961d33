"""A binding's plan known to send nothing, kept so that runs skip planning it again.

Planning reads every member of a segment, classifies each one and diffs them
with the sync state: most of a run that has nothing to send. Its result is a
pure function of its inputs (:mod:`audiencesync.sync.plan`), so when none of
them changed since a plan that sent nothing, that plan is the answer again.

The key (:func:`plan_key`) is a SHA-256 of every input:

- the members: :meth:`SegmentMembers.fingerprint`, which digests the segment's
  stored definition, the columns read, the day relative dates count from and
  the profile engine's data version (each table file's inode, modification
  time, size and footer). An engine that cannot tell when its data changed (a
  database or Spark) gives None, and then nothing is remembered or recalled;
- the export's mapping, the batch policy, the people Iterable reported
  forgotten, the binding's state key and list;
- the sync state's files as they are on disk (inode, modification time, size):
  every commit replaces one of them, so any acknowledged send changes the key;
- this module's format and audiencesync's version: an upgrade may classify
  emails differently, so it plans again. A change to planning (classification,
  the diff, the batches, the plan's columns) must bump :data:`MEMO_FORMAT`:
  development builds share one version number.

A full resync and a binding whose removals an earlier run still holds never
use the memo. A plan with no batch at all is remembered as it is. A plan
with batches forgets the memo, and once every one of its batches was
acknowledged with nobody refused, the plan that would follow it (the same
members against the new state: nothing to send, :func:`applied`) is
remembered, provided the members' fingerprint did not change during the
run. Anything less (a refusal, held removals, a failure) leaves no memo.

The memo is a folder per binding under ``sync/memo``: the empty
``plan.parquet``, the ``invalid.parquet`` (private, like every run file)
and ``memo.json`` (the key, the plan's counts and the two files' SHA-256),
written last and atomically. A recalled file whose digest does not match, or
any file that cannot be read, means no memo: the run plans as usual.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

import orjson

from audiencesync import __version__
from audiencesync.core.parquet_facts import small_work
from audiencesync.core.private import FILE_MODE, FOLDER_MODE
from audiencesync.profiles.identifiers import quote_literal
from audiencesync.sync.plan import INVALID_FILE, PLAN_FILE, PlanSummary
from audiencesync.sync.state import changes_path

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from audiencesync.iterable.batching import BatchPolicy
    from audiencesync.sync.mapping import ExportMapping

MEMO_FORMAT = 1
MEMO_FILE = "memo.json"
_FILES = (PLAN_FILE, INVALID_FILE)


def memo_folder(home: Path, binding_id: int) -> Path:
    """Where a binding's memo lives."""
    return home / "sync" / "memo" / str(binding_id)


def plan_key(
    *,
    members: str,
    mapping: ExportMapping,
    state: Path | None,
    state_key: str,
    list_id: int | None,
    forgotten: Iterable[str],
    policy: BatchPolicy,
) -> str:
    """The digest of every input a binding's plan depends on."""
    parts = {
        "format": MEMO_FORMAT,
        "version": __version__,
        "members": members,
        "mapping": [
            mapping.email_field,
            mapping.user_id_field,
            sorted(mapping.fields.items()),
            mapping.consent_column,
            mapping.mode,
        ],
        "state": _file_signature(state),
        "changes": _file_signature(changes_path(state) if state else None),
        "state_key": state_key,
        "list": list_id,
        "forgotten": hashlib.sha256("\n".join(sorted(forgotten)).encode()).hexdigest(),
        "policy": [policy.max_items, policy.max_bytes],
    }
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()


def _file_signature(path: Path | None) -> list[Any] | None:
    if path is None:
        return None
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size]


def is_empty(summary: PlanSummary) -> bool:
    """Whether a plan sends nothing at all (no batch of either kind)."""
    return summary.subscribe_batches + summary.unsubscribe_batches == 0


def applied(summary: PlanSummary, *, in_state: int) -> PlanSummary:
    """The plan of the same members once ``summary``'s plan was applied whole.

    Everyone sent is in the sync state now and leavers are out of it: nothing
    to add, update, retry or remove, every valid member not forgotten is
    unchanged. Forgotten people stay forgotten (never in the state); the
    rejects found in the source are the same members' and stay the same.
    """
    sent = summary.to_add + summary.to_update + summary.retried
    return replace(
        summary,
        to_add=0,
        to_update=0,
        to_remove=0,
        retried=0,
        unchanged=summary.unchanged + sent,
        subscribe_batches=0,
        unsubscribe_batches=0,
        in_state=in_state,
    )


def remember(folder: Path, key: str, summary: PlanSummary, plan: Path) -> None:
    """Keep the empty plan of ``summary`` under ``key``.

    ``plan`` is the folder of a plan of the same members: its invalid rows are
    kept, and its plan file's columns make the empty plan.

    A file error only loses the memo: the next run plans as usual.
    """
    try:
        _write(folder, key, summary, plan)
    except (OSError, ValueError):  # ValueError: pyarrow's ArrowInvalid
        forget(folder)


def _write(folder: Path, key: str, summary: PlanSummary, plan: Path) -> None:
    (folder / MEMO_FILE).unlink(missing_ok=True)  # no memo while its files change
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    _write_empty_like(plan / PLAN_FILE, folder / PLAN_FILE)
    shutil.copyfile(plan / INVALID_FILE, folder / INVALID_FILE)
    digests = {}
    for name in _FILES:
        (folder / name).chmod(FILE_MODE)
        digests[name] = _digest(folder / name)
    record = {"key": key, "summary": asdict(summary), "files": digests}
    temporary = folder / f".{MEMO_FILE}.tmp"
    temporary.write_bytes(orjson.dumps(record))
    temporary.chmod(FILE_MODE)
    temporary.replace(folder / MEMO_FILE)


def _write_empty_like(source: Path, target: Path) -> None:
    """A Parquet file at ``target`` with ``source``'s columns and no row.

    Written by DuckDB: pyarrow's ``empty_table`` imports pandas where it is
    installed (see :func:`~audiencesync.sync.files.write_values`).
    """
    with small_work() as con:
        rows = f"SELECT * FROM read_parquet({quote_literal(str(source))}) LIMIT 0"  # noqa: S608 -- a quoted path
        con.execute(f"COPY ({rows}) TO {quote_literal(str(target))} (FORMAT parquet)")


def recall(folder: Path, key: str, out: Path) -> PlanSummary | None:
    """The remembered plan's counts, its files copied into ``out``; None if no match."""
    try:
        record = orjson.loads((folder / MEMO_FILE).read_bytes())
        if record.get("key") != key:
            return None
        for name in _FILES:
            shutil.copyfile(folder / name, out / name)
            if _digest(out / name) != record["files"][name]:
                return None
        return PlanSummary(**record["summary"])
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return None


def forget(folder: Path) -> None:
    """Drop a binding's memo (nothing happens when it has none)."""
    with contextlib.suppress(OSError):
        shutil.rmtree(folder)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
