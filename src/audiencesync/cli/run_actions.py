"""``audiencesync runs resume | cancel | approve | discard | rejects``."""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.table import Table

from audiencesync.cli.options import AsOption, HomeOption, JsonOption, workspace_for
from audiencesync.cli.render import echo_json, print_table
from audiencesync.cli.runs import (
    bar,
    failed_run_shown,
    finish_run,
    render_run,
    runs_app,
)
from audiencesync.errors import ConfigError
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.sync.history import RejectRow

RunId = Annotated[int, typer.Argument(help="The run's number (see `runs list`).")]
SHOWN = 50  # reject rows printed on a terminal; --csv has them all


def register() -> None:
    """Add the commands to the ``runs`` group (imported for its side effect)."""


@runs_app.command("resume")
def resume(
    *, run_id: RunId, home: HomeOption = None, as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Continue an Interrupted or Failed (retrying) run: only unacknowledged batches.

    Example: audiencesync runs resume 12
    """
    with (
        workspace_for(home, as_user) as workspace,
        bar(as_json=as_json) as progress,
        failed_run_shown(workspace, as_json=as_json),
    ):
        info = workspace.runs.resume(run_id, progress=progress)
    finish_run(info, as_json=as_json)


@runs_app.command("cancel")
def cancel(*, run_id: RunId, home: HomeOption = None, as_user: AsOption = None) -> None:
    """Cancel a run: a running one starts no new batch (those in flight are kept).

    Example: audiencesync runs cancel 12
    """
    with workspace_for(home, as_user) as workspace:
        view = workspace.runs.cancel(run_id)
    if view.status == RunStatus.RUNNING:
        typer.echo(
            f"Run {run_id} starts no new batch; the batches in flight finish and"
            " are kept."
        )
    else:
        typer.echo(f"Run {run_id} is canceled.")


@runs_app.command("approve")
def approve(
    *, run_id: RunId, home: HomeOption = None, as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Send the removals the brake held (administrators only).

    Example: audiencesync runs approve 12
    """
    with (
        workspace_for(home, as_user) as workspace,
        bar(as_json=as_json) as progress,
        failed_run_shown(workspace, as_json=as_json),
    ):
        info = workspace.runs.approve(run_id, progress=progress)
    finish_run(info, as_json=as_json)


@runs_app.command("discard")
def discard(
    *, run_id: RunId, home: HomeOption = None, as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Drop the removals the brake held; the next run plans them again (admins).

    The run ends "Removals discarded"; exits 0 once that is done.
    Example: audiencesync runs discard 12
    """
    with workspace_for(home, as_user) as workspace:
        info = workspace.runs.discard(run_id)
    render_run(info, as_json=as_json)


@runs_app.command("rejects")
def rejects(
    *,
    run_id: RunId,
    csv_file: Annotated[
        str | None,
        typer.Option(
            "--csv",
            metavar="FILE",
            help="Write every reject to FILE as CSV ('-' for stdout).",
        ),
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every profile a run could not deliver, with its bucket and reason.

    Holds e-mail addresses: viewers may not read it.
    Example: audiencesync runs rejects 12 --csv rejects.csv
    """
    from audiencesync.app.views.runs import RejectView

    with workspace_for(home, as_user) as workspace:
        rows = workspace.runs.reject_rows(run_id)
        if csv_file == "-":
            _write_csv(rows, sys.stdout)
        elif csv_file is not None:
            count = _write_csv_file(rows, Path(csv_file))
            typer.echo(f"Wrote {count:,} rejects of run {run_id} to {csv_file}.")
        elif as_json:
            echo_json([RejectView.of(row).as_json() for row in rows])
        else:
            _print(run_id, rows)


def _write_csv_file(rows: Iterable[RejectRow], path: Path) -> int:
    """Write the CSV readable by its owner only (it holds e-mail addresses).

    The rows go to a new file beside ``path`` (mode 0600) that replaces it only
    once complete: on any error ``path`` is left as it was.
    """
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".part"
        )  # created 0600
    except OSError as exc:
        raise _unwritable(path, exc) from exc
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            count = _write_csv(rows, handle)
        Path(temporary).replace(path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _unwritable(path, exc) from exc
        raise
    return count


def _unwritable(path: Path, exc: OSError) -> ConfigError:
    reason = exc.strerror or type(exc).__name__
    return ConfigError(f"Cannot write {str(path)!r}: {reason}. Choose another file.")


def _write_csv(rows: Iterable[RejectRow], handle: TextIO) -> int:
    """Write the rejects CSV to ``handle``; how many rejects it holds."""
    from audiencesync.app.runs import csv_lines

    count = -1  # the header is no reject
    for line in csv_lines(rows):
        handle.write(line)
        count += 1
    return count


def _print(run_id: int, rows: Iterable[RejectRow]) -> None:
    table = Table(
        "Segment", "Profile key", "Identifier", "Bucket", "Reason", "Retried next run"
    )
    buckets: Counter[str] = Counter()
    for row in rows:
        buckets[row.bucket] += 1
        if sum(buckets.values()) <= SHOWN:
            table.add_row(row.segment_name, row.profile_key or "", row.identifier,
                          row.bucket, row.reason,
                          "yes" if row.retryable else "no")  # fmt: skip
    total = sum(buckets.values())
    if not total:
        typer.echo(f"Run {run_id} has no rejects.")
        return
    summary = ", ".join(f"{bucket} {count:,}" for bucket, count in buckets.items())
    typer.echo(f"Run {run_id}: {total:,} rejects ({summary}).")
    print_table(table)
    if total > SHOWN:
        typer.echo(f"{total - SHOWN:,} more: write them all with --csv FILE.")
