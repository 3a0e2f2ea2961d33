"""``serve`` keeps a launcher beside it: commands on its data folder start warm.

See :mod:`audiencesync.launch`. The launcher runs in a session of its own (a
Ctrl-C meant for ``serve`` must not reach the commands it runs for others),
follows ``serve``'s end through its ``--parent`` pid, and is asked to stop with
SIGTERM when ``serve`` stops; a command still running in it runs to its end.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)
MODULE = "audiencesync.launch.server"


@contextlib.contextmanager
def launcher(home: Path) -> Iterator[subprocess.Popen[bytes] | None]:
    """A launcher for ``home`` while the block runs (None where none can run)."""
    if not hasattr(os, "pidfd_open"):  # Linux only; elsewhere commands start cold
        yield None
        return
    command = [sys.executable, "-m", MODULE, "--home", str(home.resolve()),
               "--parent", str(os.getpid())]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - our own module, our own interpreter
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1)
