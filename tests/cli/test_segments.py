"""``audiencesync segments ...`` on the command line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app

CUSTOMERS = """customer_id,email,country,lifetime_value
C1,ana@example.com,FR,1500
C2,ben@example.com,FR,200
C3,cleo@example.com,DE,3000
"""
GERMANY = {"field": "country", "op": "=", "value": "DE"}


def _run(home: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, [*args, "--home", str(home)], input=stdin)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data folder with three imported customers."""
    folder = tmp_path / "home"
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    assert _run(folder, "init").exit_code == 0
    assert _run(folder, "profiles", "import", str(source)).exit_code == 0
    return folder


def test_create_with_where_prints_the_count(home: Path) -> None:
    """``create --where`` saves the segment and says how many members it has."""
    result = _run(home, "segments", "create", "FR", "--where", "country = 'FR'")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Created segment FR: 2 members."


def test_create_with_a_rules_file(home: Path, tmp_path: Path) -> None:
    """``--rules FILE`` reads a JSON rules file."""
    rules = tmp_path / "de.json"
    rules.write_text(json.dumps(GERMANY), encoding="utf-8")
    result = _run(home, "segments", "create", "DE", "--rules", str(rules), "--json")
    assert json.loads(result.stdout)["member_count"] == 1


def test_create_with_rules_on_stdin(home: Path) -> None:
    """``--rules -`` reads the rules from standard input."""
    result = _run(
        home, "segments", "create", "DE", "--rules", "-", stdin=json.dumps(GERMANY)
    )
    assert result.stdout.strip() == "Created segment DE: 1 member."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "A segment needs a definition"),
        (
            ["--where", "country = 'FR'", "--rules", "x.json"],
            "either --where or --rules",
        ),
        (["--rules", "missing.json"], "Could not read the rules file missing.json"),
        (["--where", "contry = 'FR'"], 'Did you mean "country"?'),
        (["--where", "country = 'FR'; DROP TABLE customers"], 'remove the ";"'),
    ],
    ids=["no definition", "both", "missing file", "unknown column", "stacked"],
)
def test_bad_definitions_exit_2_with_one_line(
    home: Path, args: list[str], message: str
) -> None:
    """Each bad definition is one ``Error:`` line naming the fix, exit code 2."""
    result = _run(home, "segments", "create", "Bad", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_list_json_has_counts_and_evaluation_time(home: Path) -> None:
    """``list --json``: one object per segment with name, count and when."""
    _run(home, "segments", "create", "FR", "--where", "country = 'FR'")
    [segment] = json.loads(_run(home, "segments", "list", "--json").stdout)
    assert segment["name"] == "FR"
    assert segment["member_count"] == 2
    evaluated = datetime.fromisoformat(segment["evaluated_at"])
    assert evaluated.utcoffset() == timedelta(0)


def test_list_text_when_there_are_none(home: Path) -> None:
    """An empty list says how to create a segment."""
    result = _run(home, "segments", "list")
    assert "No segments yet" in result.stdout


def test_show_json_includes_history(home: Path) -> None:
    """``show --json`` carries the count history, newest first."""
    _run(home, "segments", "create", "FR", "--where", "country = 'FR'")
    _run(home, "segments", "evaluate", "FR")
    shown = json.loads(_run(home, "segments", "show", "fr", "--json").stdout)
    assert [entry["member_count"] for entry in shown["history"]] == [2, 2]


def test_preview_json_lists_first_members(home: Path) -> None:
    """``preview --limit 1 --json`` gives one member and the full count."""
    _run(home, "segments", "create", "FR", "--where", "country = 'FR'")
    result = _run(home, "segments", "preview", "FR", "--limit", "1", "--json")
    preview = json.loads(result.stdout)
    assert preview["member_count"] == 2
    assert preview["columns"] == ["customer_id", "country"]
    assert len(preview["members"]) == 1


def test_preview_text_says_how_many_are_shown(home: Path) -> None:
    """The text preview ends with "N of M members shown"."""
    _run(home, "segments", "create", "FR", "--where", "country = 'FR'")
    result = _run(home, "segments", "preview", "FR", "--column", "email")
    assert "2 of 2 members shown." in result.stdout
    assert "email" in result.stdout


def test_edit_renames_and_redefines(home: Path) -> None:
    """``edit --name --where`` changes both at once."""
    _run(home, "segments", "create", "FR", "--where", "country = 'FR'")
    result = _run(
        home, "segments", "edit", "FR", "--name", "Germany", "--where", "country = 'DE'"
    )
    assert result.stdout.strip() == "Updated segment Germany: 1 member."


def test_edit_without_changes_is_refused(home: Path) -> None:
    """``edit`` needs something to change."""
    _run(home, "segments", "create", "FR", "--where", "country = 'FR'")
    result = _run(home, "segments", "edit", "FR")
    assert "Nothing to change" in result.stderr


def test_evaluate_counts_every_segment(home: Path) -> None:
    """``evaluate`` without names counts all segments."""
    _run(home, "segments", "create", "FR", "--where", "country = 'FR'")
    _run(home, "segments", "create", "DE", "--where", "country = 'DE'")
    counts = json.loads(_run(home, "segments", "evaluate", "--json").stdout)
    assert counts == [
        {"name": "DE", "member_count": 1, "error": None},
        {"name": "FR", "member_count": 2, "error": None},
    ]


def test_delete_then_show_is_not_found(home: Path) -> None:
    """A deleted segment is gone."""
    _run(home, "segments", "create", "FR", "--where", "country = 'FR'")
    assert _run(home, "segments", "delete", "FR").stdout.strip() == (
        "Deleted segment 'FR'."
    )
    result = _run(home, "segments", "show", "FR")
    assert result.exit_code == 2
    assert "There is no segment named 'FR'" in result.stderr


def test_commands_need_an_initialised_folder(tmp_path: Path) -> None:
    """Before ``init``, segment commands say to run it."""
    result = _run(tmp_path / "nowhere", "segments", "list")
    assert result.exit_code == 2
    assert "Run `audiencesync init" in result.stderr
