"""How the ``audiencesync`` command finds a launcher, and when it does not try."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audiencesync.launch.client import forward
from audiencesync.launch.wire import SWITCH, home_of


def test_the_home_flag_comes_first(tmp_path: Path) -> None:
    """``--home`` wins over the environment, relative to the working directory."""
    env = {"AUDIENCESYNC_HOME": "/elsewhere"}
    assert (
        home_of(["runs", "list", "--home", "data"], env, tmp_path) == tmp_path / "data"
    )
    assert home_of(["runs", "--home=/abs"], env, tmp_path) == Path("/abs")


def test_the_environment_comes_before_a_dotenv_file(tmp_path: Path) -> None:
    """``AUDIENCESYNC_HOME`` wins over ``.env``."""
    (tmp_path / ".env").write_text("AUDIENCESYNC_HOME=fromfile\n", encoding="utf-8")
    env = {"AUDIENCESYNC_HOME": "fromenv"}
    assert home_of(["runs"], env, tmp_path) == tmp_path / "fromenv"


@pytest.mark.parametrize(
    "line",
    [
        "AUDIENCESYNC_HOME=data",
        'export AUDIENCESYNC_HOME="data"',
        "AUDIENCESYNC_HOME='data' # x",
    ],
)
def test_a_dotenv_file_names_the_home(tmp_path: Path, line: str) -> None:
    """A ``.env`` line, quoted or exported, names the data folder."""
    (tmp_path / ".env").write_text(f"# settings\n{line}\n", encoding="utf-8")
    assert home_of(["runs"], {}, tmp_path) == tmp_path / "data"


def test_the_default_home_is_in_the_working_directory(tmp_path: Path) -> None:
    """Nothing given: ``./.audiencesync``, as the settings default."""
    assert home_of(["runs"], {}, tmp_path) == tmp_path / ".audiencesync"


@pytest.mark.parametrize(
    "argv",
    [[], ["--version"], ["users", "add", "x"], ["connections", "add"], ["serve"],
     ["exports", "run", "X", "--help"]],
    ids=["nothing", "version", "users", "connections", "serve", "help"],
)  # fmt: skip
def test_these_commands_never_look_for_a_launcher(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Help, version, and commands that may prompt or serve run cold."""
    (tmp_path / "launcher.sock").write_text("not a socket", encoding="utf-8")
    monkeypatch.setenv("AUDIENCESYNC_HOME", str(tmp_path))
    assert forward(argv) is None


def test_the_switch_turns_fast_start_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``AUDIENCESYNC_FAST_START=0``: every command runs cold."""
    monkeypatch.setenv("AUDIENCESYNC_HOME", str(tmp_path))
    monkeypatch.setenv(SWITCH, "0")
    assert forward(["exports", "list"]) is None


def test_a_socket_nobody_listens_on_means_cold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A launcher that died left its socket: the command runs cold."""
    import socket  # noqa: PLC0415 - only this test makes one

    path = tmp_path / "launcher.sock"
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))  # bound, never listening
        monkeypatch.setenv("AUDIENCESYNC_HOME", str(tmp_path))
        assert forward(["exports", "list"]) is None


def test_the_command_entry_imports_only_the_standard_library() -> None:
    """What ``audiencesync`` imports before it knows where to run: nothing heavy."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import audiencesync.launch.client\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = done.stdout.split()
    ours = {name for name in loaded if name.startswith("audiencesync")}
    assert ours == {
        "audiencesync", "audiencesync.launch", "audiencesync.launch.client",
        "audiencesync.launch.wire",
    }  # fmt: skip
    outside = {name.split(".")[0] for name in loaded} - {"audiencesync"}
    assert outside <= set(sys.stdlib_module_names) | {"_distutils_hack"}


_FIRST_USE = """
from audiencesync.iterable.client import tls_context
from audiencesync.launch.server import preload
from audiencesync.store.models import Base

mappers = Base.registry.mappers
assert mappers and not any(m.configured for m in mappers), "configured too early"
assert tls_context.cache_info().currsize == 0, "built too early"
preload()
assert all(m.configured for m in mappers), "not configured"
assert tls_context.cache_info().currsize == 1, "not built"
"""


def test_the_launcher_does_first_use_work_before_it_forks() -> None:
    """Preloading builds the TLS context and configures the mapped classes."""
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", _FIRST_USE], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
