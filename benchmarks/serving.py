"""``audiencesync serve`` beside a benchmark: its commands then start warm.

``serve`` keeps a launcher for its data folder (see :mod:`audiencesync.launch`):
the benchmark's commands go through it as a user's would while ``serve`` runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from audiencesync.launch.wire import connect, socket_path
from benchmarks.export_harness import children, cli_command

READY_SECONDS = 60.0
LAUNCHER = "audiencesync.launch.server"


@contextlib.contextmanager
def serving(home: Path) -> Iterator[int]:
    """``audiencesync serve --port 0`` for ``home``; the pid of its launcher."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    env["AUDIENCESYNC_HOME"] = str(home)
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [*cli_command(), "serve", "--port", "0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield _wait_for_launcher(home, process)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def _wait_for_launcher(home: Path, serve: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + READY_SECONDS
    path = socket_path(home)
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            msg = f"serve exited with code {serve.returncode}"
            raise RuntimeError(msg)
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
            connect(probe, path)
            if probe.recv(64).startswith(b'{"ready"'):
                return _launcher_of(serve.pid)
        time.sleep(0.05)
    msg = "serve's launcher did not start"
    raise RuntimeError(msg)


def _launcher_of(serve_pid: int) -> int:
    for pid in children(serve_pid):
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if LAUNCHER.encode() in command:
            return pid
    msg = "serve runs no launcher"
    raise RuntimeError(msg)
