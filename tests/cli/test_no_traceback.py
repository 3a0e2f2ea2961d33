"""No input makes the real CLI print a traceback: one line, a non-zero exit."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from audiencesync.app.home import initialize
from audiencesync.cli import app
from audiencesync.cli.crashes import MAX_LOG_BYTES, log_path, write_details
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.service import SegmentService
from audiencesync.settings import load_settings

CUSTOMERS = "customer_id,email,country\nC1,ana@example.com,FR\n"
DEPTH = 100_000


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An initialised data folder with one imported customer."""
    settings = load_settings(home=tmp_path / "home")
    initialize(settings)
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    import_profiles(settings, source)
    return settings.home


def _cli(*args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    return subprocess.run(  # noqa: S603 - our own CLI, arguments from the test
        [sys.executable, "-m", "audiencesync", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[bytes]) -> str:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode != 0
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_deeply_nested_json_lines(home: Path, tmp_path: Path) -> None:
    """A JSON lines file nested 100,000 deep is refused as malformed, in one line."""
    deep = tmp_path / "deep.jsonl"
    nested = "[" * DEPTH + "]" * DEPTH
    deep.write_text(f'{{"customer_id": "C9", "x": {nested}}}\n', encoding="utf-8")
    line = _one_line(_cli("profiles", "import", str(deep), "--home", str(home)))
    assert "nested too deeply" in line


def test_a_key_that_is_not_utf8_on_stdin(home: Path) -> None:
    """An API key with bytes that are not UTF-8 is refused without echoing it."""
    key = b"0123456789abcdef0123456789abcde\xff\n"
    result = _cli(
        "connections", "add", "--name", "Iterable", "--api-key-stdin", "--i-agree",
        "--base-url", "http://127.0.0.1:9", "--home", str(home), stdin=key,
    )  # fmt: skip
    line = _one_line(result)
    assert "not valid UTF-8" in line
    assert "0123456789abcdef" not in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["segments", "create", b"VIP\xff", "--where", "country = 'FR'"], "not UTF-8"),
        (["segments", "create", "VIP", "--where", b"country = '\xff'"], "not UTF-8"),
        (
            ["segments", "create", "VIP", "--where", "country = 'FR'",
             "--description", b"caf\xe9"],
            "not UTF-8",
        ),
        (["segments", "show", b"\xff"], "not UTF-8"),
        (["exports", "show", b"\xff"], "not UTF-8"),
    ],
    ids=["segment-name", "condition", "description", "show", "export-show"],
)  # fmt: skip
def test_arguments_that_are_not_utf8(
    home: Path, args: list[str | bytes], expected: str
) -> None:
    """Bytes that are not UTF-8 in an argument: one line saying so, exit 2."""
    result = _cli(*args, "--home", str(home))
    assert expected in _one_line(result)
    assert result.returncode == 2


def test_a_reader_that_goes_away_is_not_a_bug(home: Path) -> None:
    """``audiencesync ... | head -0``: no traceback, no "unexpected" line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    with subprocess.Popen(  # noqa: S603 - our own CLI, arguments from the test
        [sys.executable, "-m", "audiencesync", "segments", "list", "--json",
         "--home", str(home)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()
        stderr = process.stderr.read().decode()
        process.wait(timeout=60)
    assert stderr == ""


@pytest.mark.parametrize(
    "command",
    [["segments", "list"], ["exports", "list"], ["init"], ["runs", "list"]],
    ids=["segments", "exports", "init", "runs"],
)
def test_a_damaged_database_file(home: Path, command: list[str]) -> None:
    """A database file that is not SQLite: one line naming it and the fix."""
    (home / "audiencesync.db").write_bytes(b"this is not a database" * 100)
    line = _one_line(_cli(*command, "--home", str(home)))
    assert "is damaged or is not an audiencesync database" in line


def test_an_unexpected_error_is_logged_without_its_text(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug prints one line; the 0600 log has the frames but not the message."""

    def broken(self: SegmentService) -> None:
        msg = "ana@example.com"
        raise RuntimeError(msg)

    monkeypatch.setattr(SegmentService, "list_all", broken)
    result = CliRunner().invoke(app, ["segments", "list", "--home", str(home)])

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: an unexpected RuntimeError stopped audiencesync (a bug). Details"
        f" (no data, no secrets) were logged to {log_path(home)}."
    ]
    log = log_path(home)
    text = log.read_text(encoding="utf-8")
    assert "builtins.RuntimeError" in text
    assert "in broken" in text
    assert "ana@example.com" not in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_a_database_damaged_mid_command_says_so(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page found malformed during a command: "damaged", not "a bug"."""

    def malformed(self: SegmentService) -> None:
        orig = sqlite3.DatabaseError("database disk image is malformed")
        statement = "SELECT 1"
        raise DatabaseError(statement, {}, orig)

    monkeypatch.setattr(SegmentService, "list_all", malformed)
    result = CliRunner().invoke(app, ["segments", "list", "--home", str(home)])

    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: the database file is damaged")
    assert "a bug" not in line


def test_the_crash_log_is_moved_aside_when_it_grows_too_big(tmp_path: Path) -> None:
    """Past MAX_LOG_BYTES the log becomes log.1 and a new one starts (bounded)."""
    log = tmp_path / "logs" / "audiencesync.log"
    log.parent.mkdir()
    log.write_bytes(b"x" * (MAX_LOG_BYTES + 1))

    write_details(log, RuntimeError("boom"))

    assert log.stat().st_size < MAX_LOG_BYTES
    assert log.with_name("audiencesync.log.1").stat().st_size == MAX_LOG_BYTES + 1


def test_a_file_name_that_is_not_utf8(home: Path, tmp_path: Path) -> None:
    """profiles import of a file whose name is not UTF-8: one line, rename it."""
    folder = os.fsencode(tmp_path)
    name = folder + b"/caf\xe9.csv"
    with open(name, "wb") as handle:  # noqa: PTH123 - a bytes path on purpose
        handle.write(CUSTOMERS.encode())
    line = _one_line(_cli("profiles", "import", name, "--home", str(home)))
    assert "not valid UTF-8" in line
    assert "a bug" not in line
