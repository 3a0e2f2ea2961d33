"""Conditions that compile but that the engine cannot evaluate are refused on save."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app

CUSTOMERS = """customer_id,email,country,lifetime_value,signup_date
C1,ana@example.com,FR,1500.50,2026-01-10
C2,ben@example.com,FR,200.25,2025-05-01
"""


def _run(home: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, [*args, "--home", str(home)], input=stdin)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data folder with two imported customers."""
    folder = tmp_path / "home"
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    assert _run(folder, "init").exit_code == 0
    assert _run(folder, "profiles", "import", str(source)).exit_code == 0
    return folder


BAD_WHERE = pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("country LIKE '%' ESCAPE 'ab'", "Invalid escape string"),
        ("cast(email AS integer) > 5", "does not convert"),
        ("signup_date > current_date - interval '99999999' year", "out of range"),
        ("lifetime_value > cast(1e300 AS decimal(38, 2))", "does not convert"),
    ],
    ids=["escape", "cast-on-data", "huge-interval", "huge-decimal"],
)
BAD_RULES = pytest.mark.parametrize(
    "rules",
    [
        '{"field": "lifetime_value", "op": ">", "value": 1e400}',
        '{"field": "lifetime_value", "op": "in", "value": [1, -1e400]}',
    ],
    ids=["1e400", "minus-1e400-in"],
)


def _refused(result: Result) -> list[str]:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "ana@example.com" not in result.output
    return lines


def _names(home: Path) -> list[str]:
    listing = json.loads(_run(home, "segments", "list", "--json").stdout)
    return [segment["name"] for segment in listing]


@BAD_WHERE
def test_create_with_a_bad_where_is_refused(
    home: Path, where: str, problem: str
) -> None:
    """``create --where`` refuses the condition in one line and saves nothing."""
    lines = _refused(_run(home, "segments", "create", "Bad", "--where", where))
    assert problem in lines[0]
    assert "cannot be evaluated" in lines[0]
    assert _names(home) == []


@BAD_RULES
def test_create_with_bad_rules_is_refused(home: Path, rules: str) -> None:
    """``create --rules -`` refuses a value the engine cannot use; nothing saved."""
    result = _run(home, "segments", "create", "Bad", "--rules", "-", stdin=rules)
    assert "cannot be evaluated" in _refused(result)[0]
    assert _names(home) == []


@BAD_WHERE
def test_edit_with_a_bad_where_keeps_the_old_definition(
    home: Path, where: str, problem: str
) -> None:
    """``edit --where`` refuses the condition and the segment keeps its own."""
    assert (
        _run(home, "segments", "create", "FR", "--where", "country = 'FR'").exit_code
        == 0
    )
    lines = _refused(_run(home, "segments", "edit", "FR", "--where", where))
    assert problem in lines[0]
    shown = json.loads(_run(home, "segments", "show", "FR", "--json").stdout)
    assert "country = 'FR'" in json.dumps(shown["definition"])


@BAD_RULES
def test_edit_with_bad_rules_is_refused(home: Path, rules: str) -> None:
    """``edit --rules -`` refuses a value the engine cannot use."""
    assert (
        _run(home, "segments", "create", "FR", "--where", "country = 'FR'").exit_code
        == 0
    )
    result = _run(home, "segments", "edit", "FR", "--rules", "-", stdin=rules)
    _refused(result)
    shown = json.loads(_run(home, "segments", "show", "FR", "--json").stdout)
    assert shown["member_count"] == 2


def test_evaluate_reports_a_broken_segment_and_counts_the_others(
    home: Path, tmp_path: Path
) -> None:
    """The data breaks one segment: evaluate names it, counts the rest, exits 2."""
    everyone = _run(home, "segments", "create", "All", "--where", "email IS NOT NULL")
    assert everyone.exit_code == 0
    numeric = tmp_path / "numeric.csv"
    numeric.write_text("customer_id,email,code\nC1,a@example.com,1\n", "utf-8")
    assert _run(home, "profiles", "import", str(numeric), "--replace").exit_code == 0
    created = _run(
        home, "segments", "create", "Coded", "--where", "cast(code AS int) > 0"
    )
    assert created.exit_code == 0, created.output
    numeric.write_text("customer_id,email,code\nC1,a@example.com,gold\n", "utf-8")
    assert _run(home, "profiles", "import", str(numeric), "--replace").exit_code == 0

    result = _run(home, "segments", "evaluate", "--json")

    assert result.exit_code == 2
    counts = {row["name"]: row for row in json.loads(result.stdout)}
    assert counts["All"]["member_count"] == 1
    assert counts["Coded"]["member_count"] is None
    assert "does not convert" in counts["Coded"]["error"]
    assert "Traceback" not in result.output
    assert "'Coded'" in result.stderr
