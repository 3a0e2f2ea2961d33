"""Commands run warm in a launcher's worker exactly as they run cold (issue 14).

Each test starts a real launcher (``python -m audiencesync.launch.server``) for
a data folder with an export to the emulator, and runs ``audiencesync`` as a
child process. ``warm_only`` runs the command unable to import the command line,
so its success proves that a worker ran it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.app.workspace import open_workspace
from audiencesync.emulator import EmulatorConfig
from audiencesync.launch.wire import PROTOCOL, connect, send_request, socket_path
from audiencesync.sync.statuses import RunStatus
from tests.launch.launching import (
    WARM_ONLY,
    command,
    launcher,
    wait_ready,
    wait_until,
    workers,
)
from tests.sync.place import EXPORT, FRANCE, HEADER, Place, make_place

pytestmark = [
    pytest.mark.socket,
    pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="Linux only"),
]
CROWD = 30_000  # French members: thirty subscribe batches, seconds of sending
SLOW = 0.3  # seconds of emulator latency per call: a run lasts seconds


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    """The shared data folder with its export to the emulator."""
    with make_place(tmp_path) as made:
        yield made


def _crowd(count: int) -> str:
    """A profiles CSV of ``count`` French members."""
    rows = [f"P{i},p{i:05d}@example.com,FR,free\n" for i in range(count)]
    return HEADER + "".join(rows)


@pytest.fixture
def slow_place(tmp_path: Path) -> Iterator[Place]:
    """A crowd of French members and an emulator that answers in 0.3 s."""
    config = EmulatorConfig(rate_limits_enabled=False, latency=SLOW)
    with make_place(tmp_path, profiles=_crowd(CROWD), config=config) as made:
        yield made


def _home(place: Place) -> Path:
    return place.settings.home


def test_a_warm_run_sends_and_reports_like_a_cold_one(place: Place) -> None:
    """Through the launcher, ``exports run --json`` fills the lists and says so."""
    with launcher(_home(place)):
        done = command(["exports", "run", EXPORT, "--json"], home=_home(place),
                       warm_only=True)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    report = json.loads(done.stdout)
    assert report["status"] == "Succeeded with rejects"
    assert place.emulator.list_members(report["segments"][0]["list_id"]) == FRANCE


def test_a_warm_command_exits_and_complains_like_a_cold_one(place: Place) -> None:
    """An unknown export: the same exit code and the same line on stderr."""
    args = ["exports", "run", "No such export"]
    cold = command(args, home=_home(place))
    with launcher(_home(place)):
        warm = command(args, home=_home(place), warm_only=True)
    assert cold.returncode != 0
    assert (warm.returncode, warm.stderr, warm.stdout) == (
        cold.returncode, cold.stderr, cold.stdout,
    )  # fmt: skip


def test_a_worker_takes_the_clients_environment(place: Place) -> None:
    """The acting user comes from the client's environment, not the launcher's."""
    args = ["exports", "run", EXPORT]
    env = {"AUDIENCESYNC_USER": "nobody"}
    cold = command(args, home=_home(place), env=env)
    with launcher(_home(place)):
        warm = command(args, home=_home(place), warm_only=True, env=env)
    assert cold.returncode != 0
    assert (warm.returncode, warm.stderr) == (cold.returncode, cold.stderr)
    assert "nobody" in warm.stderr


def test_a_worker_works_in_the_clients_folder(place: Place, tmp_path: Path) -> None:
    """A relative ``--home`` is read from the client's working directory."""
    home = _home(place)
    with launcher(home):
        done = command(
            ["exports", "list", "--json", "--home", home.name],
            home=tmp_path / "elsewhere", warm_only=True, cwd=home.parent,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [row["name"] for row in json.loads(done.stdout)] == [EXPORT]


def test_a_warm_export_run_imports_nothing_the_launcher_had_not(place: Place) -> None:
    """The launcher preloads all a sending run imports (``-X importtime`` is mute)."""
    with launcher(_home(place), flags=("-X", "importtime")):
        done = command(["exports", "run", EXPORT], home=_home(place), warm_only=True)
    assert done.returncode == 0, done.stderr
    assert place.sent_items()["lists/subscribe"] > 0  # it planned and sent
    imports = [line for line in done.stderr.splitlines() if "import time:" in line]
    assert imports == []


_AT_A_TERMINAL = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
)


@contextlib.contextmanager
def _running_export(
    home: Path, *, warm_only: bool
) -> Iterator[subprocess.Popen[bytes]]:
    """``exports run`` started as a child process; killed if still running after.

    It takes Ctrl-C as a command typed at a terminal does, even where this
    process was started with SIGINT ignored (in the background: ``make test &``),
    which a child inherits and Python then keeps.
    """
    cold = "import runpy; runpy.run_module('audiencesync', run_name='__main__')"
    start = ["-c", _AT_A_TERMINAL + (WARM_ONLY if warm_only else cold)]
    client = subprocess.Popen(  # noqa: S603 - this interpreter, our own arguments
        [sys.executable, *start, "exports", "run", EXPORT],
        env={**os.environ, "AUDIENCESYNC_HOME": str(home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield client
    finally:
        if client.poll() is None:
            client.kill()
        client.wait(timeout=60)


def _sending(place: Place, client: subprocess.Popen[bytes]) -> None:
    """Until the run in ``client`` has had a subscribe batch answered."""
    wait_until(
        lambda: (
            client.poll() is not None
            or place.sent_items().get("lists/subscribe", 0) > 0
        )
    )
    assert client.poll() is None, "the command ended before it sent anything"


def _interrupted(place: Place, *, warm_only: bool) -> tuple[int, RunStatus]:
    """Start a run, Ctrl-C it once, after it sent a batch; exit code and run status.

    One press: a first Ctrl-C that asyncio's cancellation loses on its way (seen
    once under CI's load, cold) must still stop the run (``sync.interrupt``).
    """
    with _running_export(_home(place), warm_only=warm_only) as client:
        _sending(place, client)
        client.send_signal(signal.SIGINT)
        code = client.wait(timeout=60)
    return code, _last_status(place)


def test_ctrl_c_reaches_the_worker(slow_place: Place) -> None:
    """SIGINT to the client interrupts the run in the worker, as it would cold."""
    with launcher(_home(slow_place)) as process:
        interrupted = _interrupted(slow_place, warm_only=True)
        wait_until(lambda: workers(process.pid) == [])
    assert interrupted == (130, RunStatus.INTERRUPTED)
    assert slow_place.sent_items()["lists/subscribe"] < CROWD


def test_one_ctrl_c_stops_a_cold_run(slow_place: Place) -> None:
    """Without a launcher, one SIGINT ends the command 130 and the run Interrupted."""
    interrupted = _interrupted(slow_place, warm_only=False)
    assert interrupted == (130, RunStatus.INTERRUPTED)
    assert slow_place.sent_items()["lists/subscribe"] < CROWD


def test_a_killed_client_takes_its_worker_along(slow_place: Place) -> None:
    """kill -9 of the client ends its worker: the run stops, as a cold one would."""
    home = _home(slow_place)
    with launcher(home) as process, _running_export(home, warm_only=True) as client:
        _sending(slow_place, client)
        [worker] = workers(process.pid)
        client.kill()
        client.wait(timeout=30)
        wait_until(lambda: not Path(f"/proc/{worker}").exists())
        sent = slow_place.sent_items()["lists/subscribe"]
    assert sent < CROWD
    resumed = command(["exports", "run", EXPORT, "--json"], home=home)
    assert resumed.returncode == 0, resumed.stderr
    [france, _] = json.loads(resumed.stdout)["segments"]
    assert len(slow_place.emulator.list_members(france["list_id"])) == CROWD


def test_a_command_that_may_prompt_runs_cold(place: Place) -> None:
    """``users`` may ask for a password: it never goes to a worker."""
    with launcher(_home(place)):
        warm = command(["users", "list"], home=_home(place), warm_only=True)
        cold = command(["users", "list"], home=_home(place))
    assert warm.returncode != 0  # unable to run cold, and not sent to the launcher
    assert cold.returncode == 0, cold.stderr


def test_without_a_launcher_a_command_runs_cold(place: Place) -> None:
    """No launcher (or one that has gone): the command runs in its own process."""
    with launcher(_home(place)):
        pass
    done = command(["exports", "list", "--json"], home=_home(place))
    assert done.returncode == 0, done.stderr
    assert not (_home(place) / "launcher.sock").exists()


def _last_status(place: Place) -> RunStatus:
    with open_workspace(place.settings) as workspace:
        [latest] = workspace.runs.list(limit=1).items
    return RunStatus(latest.status)


def test_a_client_of_another_python_is_refused(place: Place) -> None:
    """A launcher runs commands only for its own interpreter and code."""
    with launcher(_home(place)), socket.socket(socket.AF_UNIX) as sock:
        connect(sock, socket_path(_home(place)))
        answers = sock.makefile("rb")
        assert json.loads(answers.readline()) == {"ready": PROTOCOL}
        request = {"protocol": PROTOCOL, "executable": "/other/python",
                   "package": "", "argv": ["runs", "list"]}  # fmt: skip
        send_request(sock, request, [0, 1, 2])
        assert json.loads(answers.readline()) == {"refused": "another Python"}


def test_changed_code_is_run_cold_then_the_launcher_restarts(
    place: Place, tmp_path: Path
) -> None:
    """Once audiencesync's files change, commands run cold until it reloaded them."""
    probe = tmp_path / "probe" / "audiencesync_probe.py"
    probe.parent.mkdir()
    probe.write_text("", encoding="utf-8")
    folder = str(probe.parent)
    start = f"import sys\nsys.path.insert(0, {folder!r})\nimport audiencesync_probe"
    home = _home(place)
    with launcher(home, start=start) as process:
        assert command(["exports", "list"], home=home, warm_only=True).returncode == 0
        later = time.time() + 5
        os.utime(probe, (later, later))
        refused = command(["exports", "list"], home=home, warm_only=True)
        wait_ready(socket_path(home), process)  # the same process, new code
        again = command(["exports", "list"], home=home, warm_only=True)
    assert refused.returncode != 0  # not run warm, and unable to run cold
    assert again.returncode == 0, again.stderr


def test_a_launcher_ends_with_its_parent(tmp_path: Path) -> None:
    """``serve`` killed with -9: its launcher notices and exits."""
    parent = subprocess.Popen(["sleep", "60"])  # noqa: S607 - coreutils
    home = tmp_path / "home"
    home.mkdir()
    try:
        with launcher(home, parent=parent.pid) as process:
            parent.kill()
            parent.wait()
            assert process.wait(timeout=30) == 0
    finally:
        parent.kill()


def test_serve_keeps_a_launcher_and_removes_it(place: Place) -> None:
    """While ``serve`` runs, commands run warm; once it stops, the socket is gone."""
    home = _home(place)
    serve = subprocess.Popen(
        [sys.executable, "-m", "audiencesync", "serve", "--port", "0"],
        env={**os.environ, "AUDIENCESYNC_HOME": str(home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_ready(socket_path(home), serve)
        warm = command(["exports", "list"], home=home, warm_only=True)
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=60)
    assert warm.returncode == 0, warm.stderr
    wait_until(lambda: not socket_path(home).exists())


def test_a_stopping_launcher_leaves_a_newer_ones_socket(place: Place) -> None:
    """Two launchers on one folder: the first to stop does not take the other's."""
    home = _home(place)
    path = socket_path(home)
    with launcher(home) as first:
        ours = path.stat().st_ino
        with launcher(home) as second:
            wait_until(lambda: path.exists() and path.stat().st_ino != ours)
            wait_ready(path, second)
            first.terminate()
            first.wait(timeout=30)
            done = command(["exports", "list"], home=home, warm_only=True)
    assert done.returncode == 0, done.stderr


def _in_terminal(args: list[str], home: Path, *, warm_only: bool) -> bytes:
    """``audiencesync ARGS`` on a 100-column pseudo-terminal: all it printed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = {k: v for k, v in os.environ.items()
           if k not in {"COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"}}  # fmt: skip
    start = ["-c", WARM_ONLY] if warm_only else ["-m", "audiencesync"]
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own arguments
        [sys.executable, *start, *args],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        env={**env, "AUDIENCESYNC_HOME": str(home), "TERM": "xterm-256color"},
    )  # fmt: skip
    os.close(slave)
    output = bytearray()
    with contextlib.suppress(OSError):  # EIO once every writer has gone
        while chunk := os.read(master, 65536):
            output += chunk
    os.close(master)
    assert process.wait(timeout=60) == 0
    return bytes(output)


def test_a_warm_command_draws_on_a_terminal_as_a_cold_one(place: Place) -> None:
    """Colours, borders and width come out the same on the client's terminal."""
    args = ["exports", "list"]
    cold = _in_terminal(args, _home(place), warm_only=False)
    with launcher(_home(place)):
        warm = _in_terminal(args, _home(place), warm_only=True)
    assert b"\x1b[" in cold  # Rich saw a terminal and coloured its table
    assert warm == cold


def test_a_data_folder_deep_in_the_tree_still_starts_warm(tmp_path: Path) -> None:
    """A socket path beyond a Unix address's 107 bytes is reached through its folder."""
    deep = tmp_path / ("nested-folder-" * 8)
    deep.mkdir()
    with make_place(deep) as place, launcher(_home(place)):
        assert len(str(socket_path(_home(place)))) > 107
        done = command(["exports", "list"], home=_home(place), warm_only=True)
    assert done.returncode == 0, done.stderr


def test_a_launcher_that_cannot_listen_says_so_in_one_line(tmp_path: Path) -> None:
    """A data folder it may not write to: one line, exit 1, no traceback."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "launcher.sock").mkdir()  # a folder where its socket should go
    done = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "audiencesync.launch.server", "--home", str(home)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("audiencesync: no fast start for")
    assert "Traceback" not in done.stderr
