"""Leaving the process once a command is done, without the interpreter's teardown."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from audiencesync.cli.exiting import leave


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=60,
    )


def test_leaving_keeps_the_exit_code_and_the_buffered_output(tmp_path: Path) -> None:
    """Output still in the buffers is written, and the code is the process's code."""
    done = _python(
        "import sys\n"
        "from audiencesync.cli.exiting import leave\n"
        "sys.stdout.write('out' * 10000)\n"
        "sys.stderr.write('err')\n"
        "leave(3)\n",
        tmp_path,
    )
    assert (done.returncode, len(done.stdout), done.stderr) == (3, 30000, "err")


def test_leaving_runs_the_atexit_callbacks_and_finalizers(tmp_path: Path) -> None:
    """Atexit callbacks run, and a temporary folder left open is still removed."""
    done = _python(
        "import atexit, tempfile\n"
        "from audiencesync.cli.exiting import leave\n"
        "atexit.register(print, 'callback ran')\n"
        "folder = tempfile.TemporaryDirectory(dir='.')\n"
        "print(folder.name)\n"
        "leave(0)\n",
        tmp_path,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0
    assert lines[-1] == "callback ran"
    assert not Path(lines[0]).exists()


def test_leaving_waits_for_other_threads_the_normal_way() -> None:
    """With another thread alive it raises SystemExit, which waits for that thread."""
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        with pytest.raises(SystemExit) as raised:
            leave(4)
        assert raised.value.code == 4
    finally:
        release.set()
        worker.join()


def test_a_failing_command_keeps_its_message_and_exit_code(tmp_path: Path) -> None:
    """The console entry point keeps a command's error line and exit code."""
    done = subprocess.run(  # noqa: S603 - this interpreter, our own CLI
        [sys.executable, "-m", "audiencesync", "exports", "run", "nowhere",
         "--home", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("Error: ")
