"""``audiencesync serve`` as a child process on a free loopback port, for socket tests.

:func:`serve_process` starts ``python -m audiencesync serve``, waits until the
API answers, and on the way out stops it with SIGTERM and checks that it stopped
cleanly: exit 0 and no traceback on stderr.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

START_TIMEOUT = 60.0  # seconds; the machine may be busy
STOP_TIMEOUT = 60.0


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli_env(home: Path) -> dict[str, str]:
    """The environment of a child ``audiencesync``: this one, with that data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    env["AUDIENCESYNC_HOME"] = str(home)
    return env


def run_cli(home: Path, *args: str, stdin: str | None = None) -> str:
    """Run one ``audiencesync`` command in a child process; its stdout."""
    done = subprocess.run(  # noqa: S603 - our own CLI, our arguments
        [sys.executable, "-m", "audiencesync", *args],
        env=cli_env(home),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=STOP_TIMEOUT,
    )
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


@contextlib.contextmanager
def serve_process(home: Path, log: Path) -> Iterator[str]:
    """``serve`` on a free port; yields its base URL (``http://127.0.0.1:N``)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        log.open("w") as errors,
        subprocess.Popen(  # noqa: S603 - our own CLI, our arguments
            [sys.executable, "-m", "audiencesync", "serve", "--port", str(port)],
            env=cli_env(home),
            stdout=subprocess.DEVNULL,
            stderr=errors,
        ) as process,
    ):
        try:
            _wait_answering(base, process)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(STOP_TIMEOUT)
    text = log.read_text(encoding="utf-8")
    assert process.returncode == 0, text
    assert "Traceback" not in text, text


def _wait_answering(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, "serve exited before it answered"
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/api/v1/openapi.json").status_code == 200:
                return
        assert time.monotonic() < deadline, "serve did not answer in time"
        time.sleep(0.1)
