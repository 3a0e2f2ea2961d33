"""One log line when a run's pass starts and one when it ends.

``serve`` shows them on its console (the CLI's other commands only show
warnings). A line names the run, its export, trigger, status, counts and how
long the pass took; never an identifier, a profile value or a key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audiencesync.sync.history import RunInfo

RUN_LOG = "audiencesync.sync.runner"
logger = logging.getLogger(RUN_LOG)

_SENT = ("added", "updated", "removed", "rejected")
_PLANNED = ("planned_add", "planned_update", "planned_remove")


def log_started(
    run_id: int, export: str, trigger: str, *, dry_run: bool, fresh: bool = True
) -> None:
    """Log that a pass over run ``run_id`` started (or continued a stopped run)."""
    verb = "started" if fresh else "continued"
    logger.info(
        "%s %d of export %r %s (%s)", _kind(dry_run), run_id, export, verb, trigger
    )


def log_ended(info: RunInfo, seconds: float, *, taken_over: bool = False) -> None:
    """Log how a pass ended: status, counts, duration."""
    kind = _kind(info.dry_run)
    if taken_over:
        logger.warning(
            "%s %d of export %r stopped: another process took its lock over",
            kind, info.id, info.export_name,
        )  # fmt: skip
        return
    logger.info(
        "%s %d of export %r (%s) ended %s: %s in %.1f s", kind, info.id,
        info.export_name, info.trigger, info.status,
        counts_text(info.counts, dry_run=info.dry_run), seconds,
    )  # fmt: skip


def counts_text(counts: Mapping[str, int], *, dry_run: bool) -> str:
    """``added 3, updated 0, removed 1, rejected 0`` (planned ones for dry runs)."""
    names = _PLANNED if dry_run else _SENT
    return ", ".join(
        f"{name.replace('_', ' ')} {counts.get(name, 0):,}" for name in names
    )


def _kind(dry_run: bool) -> str:
    return "dry run" if dry_run else "run"
