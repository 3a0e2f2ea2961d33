"""`audiencesync profiles import|generate|schema`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.app.home import initialize
from audiencesync.cli import app
from audiencesync.settings import load_settings

CSV = "customer_id,email,lifetime_value\nC1,a@example.com,1.5\nC2,b@example.com,2\n"


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture(autouse=True)
def _initialised(tmp_path: Path) -> None:
    """The data folder ``h`` exists (``audiencesync init``) with its admin."""
    initialize(load_settings(home=tmp_path / "h"))


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    """Two customers."""
    path = tmp_path / "customers.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_import_prints_one_summary_line(tmp_path: Path, csv_file: Path) -> None:
    """The text output says what happened to which table."""
    result = _run("profiles", "import", str(csv_file), "--home", str(tmp_path / "h"))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Imported customers.csv into customers (created): 2 added, 0 updated, 2 rows"
        " now; key customer_id; 3 columns.\n"
    )


def test_import_json_has_stable_fields(tmp_path: Path, csv_file: Path) -> None:
    """--json prints one object with the report's fields."""
    home = str(tmp_path / "h")
    result = _run("profiles", "import", str(csv_file), "--home", home, "--json")
    assert json.loads(result.stdout) == {
        "table": "customers",
        "mode": "created",
        "rows": 2,
        "rows_added": 2,
        "rows_updated": 0,
        "key": "customer_id",
        "columns": ["customer_id", "email", "lifetime_value"],
        "source": str(csv_file),
    }


def test_import_options_reach_the_import(tmp_path: Path, csv_file: Path) -> None:
    """--table, --key and --replace are passed through."""
    home = str(tmp_path / "h")
    args = ["profiles", "import", str(csv_file), "--home", home, "--json"]
    _run(*args, "--table", "people", "--key", "email")
    result = _run(*args, "--table", "people", "--key", "email", "--replace")
    report = json.loads(result.stdout)
    assert (report["table"], report["key"], report["mode"]) == (
        "people",
        "email",
        "replaced",
    )


def test_import_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A bad file gives `Error: ...` on stderr and exit code 2."""
    missing = tmp_path / "missing.csv"
    result = _run("profiles", "import", str(missing), "--home", str(tmp_path / "h"))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: File {missing} does not exist; check the path.\n",
    )


def test_generate_into_the_store(tmp_path: Path) -> None:
    """generate writes customers and purchases and reports both."""
    home = str(tmp_path / "h")
    result = _run(
        "profiles", "generate", "--count", "50", "--seed", "2",
        "--anchor", "2025-06-01", "--home", home, "--json",
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert (report["count"], report["seed"], report["anchor"]) == (50, 2, "2025-06-01")
    assert [(f["table"], Path(f["path"]).name) for f in report["files"]] == [
        ("customers", "customers.parquet"),
        ("purchases", "purchases.parquet"),
    ]


def test_generate_text_lists_the_files(tmp_path: Path) -> None:
    """The text output names each table, its rows and its file."""
    home = tmp_path / "h"
    result = _run(
        "profiles", "generate", "--count", "10", "--no-purchases",
        "--anchor", "2025-06-01", "--home", str(home),
    )  # fmt: skip
    assert result.stdout == (
        "Generated 10 sample customers (seed 0, dates up to 2025-06-01):\n"
        f"  customers: 10 rows in {home / 'profiles' / 'customers.parquet'}\n"
    )


def test_generate_out_writes_a_file(tmp_path: Path) -> None:
    """--out writes customers to the given file instead of the store."""
    out = tmp_path / "sample.csv"
    result = _run("profiles", "generate", "--count", "5", "--out", str(out), "--json")
    assert json.loads(result.stdout)["files"] == [
        {"table": "customers", "path": str(out), "rows": 5}
    ]
    assert len(out.read_text(encoding="utf-8").splitlines()) == 6


def test_generate_rejects_a_bad_anchor(tmp_path: Path) -> None:
    """--anchor must be YYYY-MM-DD."""
    result = _run("profiles", "generate", "--count", "5", "--anchor", "June")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --anchor 'June' is not a date; use YYYY-MM-DD, e.g. 2025-06-01.\n",
    )


def test_schema_without_profiles_says_what_to_run(tmp_path: Path) -> None:
    """An empty store points at import and generate."""
    result = _run("profiles", "schema", "--home", str(tmp_path / "h"))
    assert result.stdout == (
        "No profiles yet. Import them with `audiencesync profiles import FILE`, or"
        " make a sample with `audiencesync profiles generate --count 1000`.\n"
    )


def test_schema_json_lists_tables(tmp_path: Path, csv_file: Path) -> None:
    """--json prints an array of tables with their columns."""
    home = str(tmp_path / "h")
    _run("profiles", "import", str(csv_file), "--home", home)
    result = _run("profiles", "schema", "--home", home, "--json")
    tables = json.loads(result.stdout)
    assert [(t["name"], t["key"], t["rows"], len(t["columns"])) for t in tables] == [
        ("customers", "customer_id", 2, 3)
    ]


def test_schema_text_shows_each_column(tmp_path: Path, csv_file: Path) -> None:
    """The text output has a table per profile table, with kinds and types."""
    home = str(tmp_path / "h")
    _run("profiles", "import", str(csv_file), "--home", home)
    result = _run("profiles", "schema", "--home", home)
    assert "customers (key customer_id, 2 rows)" in result.stdout
    assert "lifetime_value" in result.stdout
    assert "number" in result.stdout


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["profiles", "import", "customers.csv"], "import"),
        (["profiles", "generate", "--count", "5"], "generate"),
    ],
    ids=["import", "generate"],
)
def test_external_engine_refuses_store_commands(
    tmp_path: Path, csv_file: Path, args: list[str], command: str
) -> None:
    """With AUDIENCESYNC_PROFILES_URL set, import and generate explain and stop."""
    env = {
        "AUDIENCESYNC_PROFILES_URL": f"sqlite:///{tmp_path / 'p.db'}",
        "AUDIENCESYNC_HOME": str(tmp_path / "h"),
    }
    result = _run(
        *[str(csv_file) if a == "customers.csv" else a for a in args], env=env
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: profiles {command} manages only the embedded profile store"
    )


def test_external_engine_schema_reads_the_database(tmp_path: Path) -> None:
    """schema describes the external database's tables."""
    env = {
        "AUDIENCESYNC_PROFILES_URL": f"sqlite:///{tmp_path / 'p.db'}",
        "AUDIENCESYNC_HOME": str(tmp_path / "h"),
    }
    result = _run("profiles", "schema", env=env)
    assert result.stdout.startswith("The external profile database")


def test_module_entry_point_generates(tmp_path: Path) -> None:
    """`python -m audiencesync profiles generate` runs end to end."""
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable, "-m", "audiencesync", "profiles", "generate",
            "--count", "1000", "--home", str(tmp_path / "h"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "h" / "profiles" / "customers.parquet").exists()
