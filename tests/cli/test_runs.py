"""``audiencesync exports run`` and ``runs list | show`` on the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig, serve_in_thread
from audiencesync.sync import files, plan
from tests.canary import CANARY_API_KEY

CUSTOMERS = """customer_id,email,country
C1,ana@example.com,FR
C2,BEN@Example.com ,FR
C3,not-an-email,FR
C4,cleo@example.com,DE
"""
KEY_VARIABLE = "RUNS_TEST_ITERABLE_KEY"


@pytest.fixture
def emulator() -> Iterator[tuple[Emulator, str]]:
    """An emulator on a loopback port, knowing the canary key."""
    config = EmulatorConfig(keys=(ApiKeySpec(CANARY_API_KEY),))
    served = Emulator(config)
    with serve_in_thread(served) as url:
        yield served, url


def _cli(home: Path, *args: str) -> Result:
    env = {
        "AUDIENCESYNC_HOME": str(home),
        KEY_VARIABLE: CANARY_API_KEY,
        "COLUMNS": "200",  # whole table cells
    }
    return CliRunner().invoke(app, list(args), env=env)


def _ok(home: Path, *args: str) -> Result:
    result = _cli(home, *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def home(tmp_path: Path, emulator: tuple[Emulator, str]) -> Path:
    """Profiles, a French segment, a shared connection and an export on it."""
    folder = tmp_path / "home"
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    _ok(folder, "init")
    _ok(folder, "users", "add", "victor", "--role", "viewer")
    _ok(folder, "profiles", "import", str(source))
    _ok(folder, "segments", "create", "France", "--where", "country = 'FR'")
    _ok(folder, "connections", "add", "--name", "Iterable", "--api-key-env",
        KEY_VARIABLE, "--base-url", emulator[1], "--allow-contributors",
        "--i-agree")  # fmt: skip
    _ok(folder, "exports", "add", "--name", "Newsletter", "--connection", "Iterable",
        "--email-field", "email", "--segment", "France")  # fmt: skip
    return folder


def test_run_json_reports_the_list_and_counts(
    home: Path, emulator: tuple[Emulator, str]
) -> None:
    """``exports run --json``: the list got exactly the valid, normalised emails."""
    run = json.loads(_ok(home, "exports", "run", "Newsletter", "--json").stdout)
    assert run["status"] == "Succeeded with rejects"
    [segment] = run["segments"]
    assert (segment["list_action"], segment["added"]) == ("created", 2)
    assert segment["invalid_in_source"] == 1
    members = emulator[0].list_members(segment["list_id"])
    assert members == {"ana@example.com", "ben@example.com"}


def test_second_run_sends_nothing_new(home: Path) -> None:
    """Unchanged profiles: the second run adds nothing and keeps the list."""
    first = json.loads(_ok(home, "exports", "run", "Newsletter", "--json").stdout)
    second = json.loads(_ok(home, "exports", "run", "Newsletter", "--json").stdout)
    [before], [after] = first["segments"], second["segments"]
    assert (after["list_id"], after["list_action"]) == (before["list_id"], "existing")
    assert (after["added"], after["unchanged"]) == (0, 2)


def test_run_text_names_the_run_and_status(home: Path) -> None:
    """The text output starts with the run number and its status."""
    result = _ok(home, "exports", "run", "Newsletter")
    assert result.stdout.startswith("Run 1 of 'Newsletter': Succeeded with rejects")


def test_viewers_cannot_run_exports(home: Path) -> None:
    """Running is for administrators and contributors (exit 3, with the reason)."""
    result = _cli(home, "exports", "run", "Newsletter", "--as", "victor")
    assert result.exit_code == 3
    assert "victor is a viewer and cannot run exports" in result.stderr


def test_runs_list_and_show(home: Path) -> None:
    """``runs list`` and ``runs show`` read the history as JSON."""
    _ok(home, "exports", "run", "Newsletter")
    [listed] = json.loads(_ok(home, "runs", "list", "--json").stdout)
    shown = json.loads(_ok(home, "runs", "show", str(listed["id"]), "--json").stdout)
    assert listed == shown
    assert shown["segments"][0]["segment"] == "France"


def test_runs_of_one_export_and_text_table(home: Path) -> None:
    """``runs list --export`` filters; the text table shows the export."""
    _ok(home, "exports", "run", "Newsletter")
    result = _ok(home, "runs", "list", "--export", "newsletter")
    assert "Newsletter" in result.stdout


def _writes(emulator: Emulator) -> list[str]:
    return [
        request.endpoint
        for request in emulator.requests
        if request.method != "GET" and request.endpoint != "lists/getUsers"
    ]


def test_dry_run_plans_and_sends_nothing(
    home: Path, emulator: tuple[Emulator, str]
) -> None:
    """``--dry-run``: counts and "would be created", no list made, nothing sent."""
    emulator[0].requests.clear()
    result = _ok(home, "exports", "run", "Newsletter", "--dry-run", "--json")
    run = json.loads(result.stdout)
    assert (run["dry_run"], run["status"]) == (True, "Succeeded with rejects")
    [segment] = run["segments"]
    assert (segment["list_id"], segment["list_action"]) == (None, "created")
    assert (segment["planned_add"], segment["invalid_in_source"]) == (2, 1)
    assert _writes(emulator[0]) == []


def test_dry_run_names_a_list_it_would_adopt(
    home: Path, emulator: tuple[Emulator, str]
) -> None:
    """An existing list named like the segment is reported as adopted, by id."""
    answer = httpx.post(
        f"{emulator[1]}/api/lists",
        json={"name": "France"},
        headers={"Api-Key": CANARY_API_KEY},
    )
    list_id = answer.json()["listId"]
    text = _ok(home, "exports", "run", "Newsletter", "--dry-run").stdout
    assert f"{list_id} (would be adopted)" in text


def test_dry_run_counts_the_plan_without_writing_its_rows(
    home: Path, emulator: tuple[Emulator, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run's counts are the real run's, but it never writes the plan's rows."""
    written: list[str] = []

    def write_parquet(con: object, query: str, path: Path, **kwargs: object) -> None:
        written.append(path.name)
        files.write_parquet(con, query, path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plan, "write_parquet", write_parquet)
    dry = _ok(home, "exports", "run", "Newsletter", "--dry-run", "--json")
    assert written == ["invalid.parquet"]
    real = _ok(home, "exports", "run", "Newsletter", "--json")
    assert written[1:] == ["invalid.parquet", "plan.parquet"]
    counts = ("planned_add", "planned_remove", "invalid_in_source", "batches_total")
    [counted] = json.loads(dry.stdout)["segments"]
    [sent] = json.loads(real.stdout)["segments"]
    assert [counted[c] for c in counts] == [sent[c] for c in counts] == [2, 0, 1, 1]


def test_dry_run_then_run_sends_the_plan(
    home: Path, emulator: tuple[Emulator, str]
) -> None:
    """A dry run changes nothing: the real run after it still sends everyone."""
    _ok(home, "exports", "run", "Newsletter", "--dry-run")
    run = json.loads(_ok(home, "exports", "run", "Newsletter", "--json").stdout)
    assert run["segments"][0]["added"] == 2


def test_forgotten_people_are_reported_once_and_never_resent(
    home: Path, emulator: tuple[Emulator, str]
) -> None:
    """GDPR-forgotten in Iterable: rejected as forgotten, then never sent again."""
    for path in ("users/update", "users/forget"):  # a known user, then forgotten
        answer = httpx.post(
            f"{emulator[1]}/api/{path}",
            json={"email": "ana@example.com"},
            headers={"Api-Key": CANARY_API_KEY},
        )
        assert answer.status_code == 200
    first = json.loads(_ok(home, "exports", "run", "Newsletter", "--json").stdout)
    assert first["segments"][0]["rejected"] == {"forgotten": 1}
    emulator[0].requests.clear()
    second = json.loads(_ok(home, "exports", "run", "Newsletter", "--json").stdout)
    assert second["segments"][0]["added"] == 0
    assert _writes(emulator[0]) == []
