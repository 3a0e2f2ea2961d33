"""A launcher beside a test's data folder, and commands run through it or cold."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from audiencesync.launch.wire import connect, socket_path

# The command as the console script runs it, unable to run cold: the command
# line itself cannot be imported, so only a launcher's worker can run it.
WARM_ONLY = """
import sys
sys.modules["audiencesync.cli"] = None
from audiencesync.launch.client import main
main()
"""
READY_SECONDS = 60.0
MODULE = "audiencesync.launch.server"


@contextmanager
def launcher(
    home: Path,
    *,
    flags: tuple[str, ...] = (),
    start: str | None = None,
    parent: int | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m audiencesync.launch.server`` for ``home``, ready to take commands.

    ``start``: Python run in the launcher before it starts (``-c``).
    """
    module = ["-m", MODULE]
    if start is not None:
        module = ["-c", f"{start}\nfrom {MODULE} import main\nmain()"]
    with (home.parent / "launcher.err").open("wb") as errors:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
            [sys.executable, *flags, *module, "--home", str(home),
             "--parent", str(parent or os.getpid())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(socket_path(home), process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_ready(path: Path, process: subprocess.Popen[bytes]) -> None:
    """Until the launcher at ``path`` greets a connection."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the launcher exited"
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
            connect(probe, path)
            if probe.recv(64).startswith(b'{"ready"'):
                return
        time.sleep(0.05)
    msg = "the launcher did not start"
    raise AssertionError(msg)


def command(
    args: list[str],
    *,
    home: Path,
    warm_only: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``audiencesync ARGS`` with ``home`` as data folder; its output."""
    start = ["-c", WARM_ONLY] if warm_only else ["-m", "audiencesync"]
    return subprocess.run(  # noqa: S603 - this interpreter, our own arguments
        [sys.executable, *start, *args],
        env={**os.environ, "AUDIENCESYNC_HOME": str(home), **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def workers(launcher_pid: int) -> list[int]:
    """The pids of the launcher's running workers."""
    pids: list[int] = []
    for task in Path(f"/proc/{launcher_pid}/task").iterdir():
        text = (task / "children").read_text(encoding="ascii")
        pids += [int(pid) for pid in text.split()]
    return pids


def wait_until(condition: Callable[[], bool], *, seconds: float = 30.0) -> None:
    """Until ``condition()`` is true, or fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    msg = "the condition did not come true in time"
    raise AssertionError(msg)
