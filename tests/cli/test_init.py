"""``audiencesync init``: the summary, ``--json``, reruns, the first admin, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from audiencesync.app.home import InitReport
from audiencesync.cli import app
from audiencesync.cli.init import summary
from audiencesync.store import head_revision


def run_init(home: Path, *flags: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``audiencesync init --home HOME``."""
    result = CliRunner().invoke(app, ["init", "--home", str(home), *flags], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_init_prints_what_it_created(tmp_path: Path) -> None:
    """The first run names the folder, database, schema and key file."""
    home = tmp_path / "h"
    code, out, _ = run_init(home)
    assert code == 0
    assert out.splitlines() == [
        f"Data folder:      {home} (created)",
        f"Database:         sqlite:///{home / 'audiencesync.db'}",
        f"Schema:           created at {head_revision()}",
        f"Secret key:       {home / 'secret.key'} (created, mode 0600)",
        "Administrator:    admin (created)",
    ]


def test_second_run_says_nothing_changed(tmp_path: Path) -> None:
    """Running init again keeps everything and says so."""
    run_init(tmp_path / "h")
    code, out, _ = run_init(tmp_path / "h")
    assert code == 0
    assert f"Schema:           already at {head_revision()}" in out
    assert "(kept)" in out
    assert "Administrator:    admin (exists)" in out
    assert out.splitlines()[-1] == "Nothing changed: everything was already in place."


def test_json_prints_one_object(tmp_path: Path) -> None:
    """``--json`` prints the report's fields as one JSON object."""
    home = tmp_path / "h"
    code, out, _ = run_init(home, "--json")
    assert code == 0
    assert json.loads(out) == {
        "home": str(home),
        "home_created": True,
        "database": f"sqlite:///{home / 'audiencesync.db'}",
        "schema": f"created at {head_revision()}",
        "schema_from": None,
        "schema_to": head_revision(),
        "key_file": str(home / "secret.key"),
        "key_created": True,
        "admin": "admin",
        "admin_created": True,
        "changed": True,
    }


def test_json_second_run_reports_no_change(tmp_path: Path) -> None:
    """On a rerun ``--json`` says ``changed: false``."""
    run_init(tmp_path / "h")
    _, out, _ = run_init(tmp_path / "h", "--json")
    assert json.loads(out)["changed"] is False


def test_wide_key_file_exits_2_with_one_line(tmp_path: Path) -> None:
    """A key file others can read: one line with the chmod fix, exit status 2."""
    run_init(tmp_path / "h")
    (tmp_path / "h" / "secret.key").chmod(0o640)
    code, out, err = run_init(tmp_path / "h")
    assert (code, out) == (2, "")
    assert err.startswith("Error: The secret key file")
    assert f"`chmod 600 {tmp_path / 'h' / 'secret.key'}`" in err
    assert len(err.splitlines()) == 1


def test_summary_of_an_upgrade_shows_both_revisions(tmp_path: Path) -> None:
    """An upgraded database reads ``upgraded 0001 → 0002``."""
    report = InitReport(
        home=tmp_path,
        home_created=False,
        database="postgresql+psycopg://ana:***@db/audiencesync",
        schema_from="0001",
        schema_to="0002",
        key_file=None,
        key_created=False,
        admin="ana",
        admin_created=False,
    )
    assert summary(report)[2:] == [
        "Schema:           upgraded 0001 → 0002",
        "Secret key:       from AUDIENCESYNC_SECRET_KEY (no key file)",
        "Administrator:    ana (exists)",
    ]


def test_admin_names_the_first_administrator(tmp_path: Path) -> None:
    """``--admin ana`` creates ana, who then acts by default."""
    code, out, _ = run_init(tmp_path / "h", "--admin", "ana")
    assert code == 0
    assert "Administrator:    ana (created)" in out
    listed = CliRunner().invoke(
        app, ["users", "list", "--home", str(tmp_path / "h"), "--json"]
    )
    assert [user["name"] for user in json.loads(listed.stdout)] == ["ana"]


def test_password_stdin_sets_the_administrators_password(tmp_path: Path) -> None:
    """``--password-stdin`` reads the first line of stdin; nothing echoes it."""
    code, out, err = run_init(
        tmp_path / "h", "--password-stdin", stdin="correct horse battery\n"
    )
    assert code == 0
    assert "correct horse battery" not in out + err
    listed = CliRunner().invoke(
        app, ["users", "list", "--home", str(tmp_path / "h"), "--json"]
    )
    assert json.loads(listed.stdout)[0]["has_password"] is True


def test_password_stdin_with_empty_input_exits_2(tmp_path: Path) -> None:
    """``--password-stdin`` without input: one line naming the fix, nothing created."""
    code, _, err = run_init(tmp_path / "h", "--password-stdin", stdin="")
    assert code == 2
    assert err.startswith("Error: --password-stdin was given but standard input")
    assert not (tmp_path / "h").exists()


def test_short_password_exits_2_without_showing_it(tmp_path: Path) -> None:
    """A too-short password: exit 2, one line, the password nowhere."""
    code, out, err = run_init(tmp_path / "h", "--password-stdin", stdin="hunter2\n")
    assert code == 2
    assert "too short" in err
    assert "hunter2" not in out + err


def test_python_m_audiencesync_init(tmp_path: Path) -> None:
    """``python -m audiencesync init`` works as a real process."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and a temporary path
        [sys.executable, "-m", "audiencesync", "init", "--home", str(tmp_path / "h")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "h" / "secret.key").exists()
