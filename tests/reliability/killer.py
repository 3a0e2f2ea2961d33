"""Run the ``audiencesync`` CLI with a kill switch: SIGKILL itself at one boundary.

``python -m tests.reliability.killer POINT BATCH -- exports run NAME`` runs the
real CLI in this process after wrapping one function of the sync engine so the
process sends itself SIGKILL (no ``finally``, no ``atexit``, no flush) exactly
at ``POINT``:

``before-checkpoint``  Iterable answered 2xx to subscribe batch ``BATCH``; the
                       batch's checkpoint transaction has not been written
``after-checkpoint``   right after the checkpoint transaction of batch ``BATCH``
                       committed (an SQLAlchemy ``after_commit`` hook)
``state-commit``       during the sync state's commit: before the state prepared
                       during the sends is moved in place, or after a rewritten
                       state's temporary file is written and flushed but before
                       it replaces the old one (``BATCH`` is ignored)

These boundaries lie between two lines of one process, so no proxy can reach
them; the points a proxy can reach (before send, after send and before the
response) are killed from outside by the crash test instead.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event


def _die(*_: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str, batch: int) -> None:
    """Wrap the sync engine's function for ``point`` so it kills the process."""
    from audiencesync.sync import files, segment_pass, sending  # noqa: PLC0415
    from audiencesync.sync.checkpoints import checkpoint as real  # noqa: PLC0415
    from audiencesync.sync.checkpoints import checkpoint_clean as real_clean  # noqa: PLC0415

    # The engine's modules call these by the names they imported: replace those.
    # A batch taken whole is checkpointed with the answers that came with it.
    if point in {"before-checkpoint", "after-checkpoint"}:

        def at(session: Any, numbers: set[int]) -> None:
            if batch in numbers and point == "before-checkpoint":
                _die()
            if batch in numbers:
                event.listen(session, "after_commit", _die, once=True)

        def checkpoint(
            session: Any, part_id: int, number: int, *a: Any, **k: Any
        ) -> Any:
            at(session, {number})
            return real(session, part_id, number, *a, **k)

        def checkpoint_clean(
            session: Any, part_id: int, batches: Any, **k: Any
        ) -> None:
            at(session, {clean.number for clean in batches})
            real_clean(session, part_id, batches, **k)

        vars(sending)["checkpoint"] = checkpoint
        vars(sending)["checkpoint_clean"] = checkpoint_clean
    elif point == "state-commit":

        def adopt_state(prepared: Path, state: Path) -> None:
            del prepared, state
            _die()

        real_flush = files.flush

        def flush(path: Path) -> None:
            real_flush(path)
            if path.parent.name == "state" and path.name.endswith(".parquet.tmp"):
                _die()

        vars(segment_pass)["adopt_state"] = adopt_state
        files.flush = flush
    else:
        msg = f"unknown kill point {point!r}"
        raise SystemExit(msg)


def main() -> None:
    """Arm the switch, then run the CLI with the arguments after ``--``."""
    point, batch, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    arm(point, batch)
    from audiencesync.cli import main as cli  # noqa: PLC0415

    sys.argv = ["audiencesync", *(rest[1:] if rest[:1] == ["--"] else rest)]
    cli()


if __name__ == "__main__":
    main()
