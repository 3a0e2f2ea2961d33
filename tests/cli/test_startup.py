"""A command imports only what it uses (issue 14; design section 8).

Each test runs ``python -m audiencesync ...`` in a child process that writes the
names of the modules it imported, and checks that the heavy ones stayed out.
How fast that makes a command is for ``benchmarks/startup.py`` to say.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from audiencesync.cli import app
from audiencesync.cli.registry import ENTRIES
from audiencesync.emulator.config import DEFAULT_API_KEY
from tests.sync.place import EXPORT, SECOND, Place, make_place

# Runs the CLI as ``python -m audiencesync`` does, then writes sys.modules' names.
CHILD = """
import atexit, json, runpy, sys
out, sys.argv = sys.argv[1], ["audiencesync", *sys.argv[2:]]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
runpy.run_module("audiencesync", run_name="__main__", alter_sys=True)
"""

SERVICES = {  # what a command that opens a data folder needs, and help does not
    "sqlalchemy", "duckdb", "pyarrow", "httpx", "sqlglot", "pydantic",
    "pydantic_settings", "croniter", "cryptography", "stamina",
    "audiencesync.app", "audiencesync.store", "audiencesync.sync.runner",
    "audiencesync.iterable", "audiencesync.profiles", "audiencesync.segments",
}  # fmt: skip
SERVING = {  # the web app, the emulator, migrations: no run needs them
    "alembic", "uvicorn", "fastapi", "starlette", "jinja2", "babel",
    "itsdangerous", "multipart", "audiencesync.web", "audiencesync.emulator",
    "audiencesync.demo", "audiencesync.scheduling.scheduler",
}  # fmt: skip


def imported(args: list[str], out: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules ``audiencesync ARGS`` imported (its exit code is not judged)."""
    subprocess.run(  # noqa: S603 - this interpreter, our own arguments
        [sys.executable, "-c", CHILD, str(out), *args],
        capture_output=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    names: list[str] = json.loads(out.read_text(encoding="utf-8"))
    return set(names)


@pytest.mark.parametrize(
    "args", [["--version"], ["--help"], []], ids=["version", "help", "no-arguments"]
)
def test_version_and_help_import_no_service(args: list[str], tmp_path: Path) -> None:
    """``--version`` and ``--help`` load the command line alone, no service."""
    modules = imported(args, tmp_path / "modules.json")
    assert "audiencesync.cli" in modules
    assert sorted(modules & (SERVICES | SERVING)) == []


# Builds every command of the tree and renders its help, then writes sys.modules.
EVERY_HELP = """
import json, sys
import click
from typer.main import get_command
from audiencesync.cli import app

def helps(command, context):
    yield command.get_help(context)
    for name in getattr(command, "commands", {}):
        child = command.get_command(context, name)
        yield from helps(child, click.Context(child, info_name=name, parent=context))

root = get_command(app)
pages = list(helps(root, click.Context(root, info_name="audiencesync")))
json.dump({"pages": len(pages), "modules": sorted(sys.modules)}, open(sys.argv[1], "w"))
"""


def test_no_help_page_imports_a_service(tmp_path: Path) -> None:
    """Every group's and command's ``--help`` loads the command line alone."""
    out = tmp_path / "help.json"
    subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", EVERY_HELP, str(out)], check=True, capture_output=True
    )
    found = json.loads(out.read_text(encoding="utf-8"))
    assert found["pages"] > 60  # every command's page was rendered
    assert sorted(set(found["modules"]) & (SERVICES | SERVING)) == []


@pytest.mark.parametrize(
    "args",
    [
        ["exports", "run", "--help"],
        ["connections", "add", "--help"],
        ["runs", "--help"],
    ],
    ids=["exports-run", "connections-add", "runs"],
)
def test_a_command_help_imports_no_service(args: list[str], tmp_path: Path) -> None:
    """``audiencesync exports run --help`` and the like load no service.

    Typer (0.29) itself checks the flags it parses with pydantic; the rest of
    the services stay out.
    """
    modules = imported(args, tmp_path / "modules.json")
    assert f"audiencesync.cli.{args[0]}" in modules
    assert sorted(modules & (SERVICES - {"pydantic"} | SERVING)) == []


def test_a_group_help_imports_only_its_group(tmp_path: Path) -> None:
    """``segments --help`` loads the segment commands, not the web or migrations."""
    modules = imported(["segments", "--help"], tmp_path / "modules.json")
    assert "audiencesync.cli.segments" in modules
    assert "audiencesync.cli.exports" not in modules
    assert sorted(modules & SERVING) == []


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    """Profiles, two segments, a connection to the emulator, an export."""
    with make_place(tmp_path) as made:
        yield made


def run_imports(place: Place, out: Path) -> set[str]:
    """The modules a real ``exports run`` of the place's export imported."""
    home = {"AUDIENCESYNC_HOME": str(place.settings.home)}
    return imported(["exports", "run", EXPORT], out, home)


@pytest.mark.socket
def test_an_export_run_imports_no_web_app_nor_migrations(
    place: Place, tmp_path: Path
) -> None:
    """A real ``exports run`` loads no server, no page, no emulator, no Alembic."""
    modules = run_imports(place, tmp_path / "modules.json")
    assert place.sent_items()["lists/subscribe"] > 0  # it did run
    assert sorted(modules & SERVING) == []


@pytest.mark.socket
def test_an_export_run_leaves_out_httpx_command_line(
    place: Place, tmp_path: Path
) -> None:
    """A run's HTTP client comes without httpx's own command line (click, 50 ms)."""
    modules = run_imports(place, tmp_path / "modules.json")
    assert place.sent_items()["lists/subscribe"] > 0  # it did send, over httpx
    assert "httpx" in modules
    assert sorted(m for m in modules if m.split(".")[0] in {"click", "pygments"}) == []


@pytest.mark.socket
def test_an_export_run_never_imports_pandas(place: Place, tmp_path: Path) -> None:
    """A run that plans, sends, commits and remembers its plan leaves pandas out.

    pyarrow imports pandas (0.2-0.3 s) on the first Arrow array built from
    Python values, wherever the Spark extra installed it; a DuckDB run needs none.
    """
    modules = run_imports(place, tmp_path / "modules.json")
    assert place.sent_items()["lists/subscribe"] > 0  # it did send and commit
    assert "pandas" not in modules


@pytest.mark.socket
def test_a_run_with_nothing_to_send_imports_no_arrow(
    place: Place, tmp_path: Path
) -> None:
    """A second run, with nothing to send, reads file footers with DuckDB alone.

    pyarrow costs 30 ms to import, and 0.1 s more where it brings numpy along.
    """
    run_imports(place, tmp_path / "first.json")
    sent = place.sent_items()
    modules = run_imports(place, tmp_path / "second.json")
    assert place.sent_items() == sent  # the second run sent nothing
    assert "audiencesync.sync.runner" in modules  # and it did run
    assert sorted(m for m in modules if m.split(".")[0] in {"pyarrow", "numpy"}) == []


@pytest.mark.socket
def test_a_run_with_nothing_to_send_loads_no_sql_parser(
    place: Place, tmp_path: Path
) -> None:
    """A second run, its plan remembered, never compiles a segment: no sqlglot.

    sqlglot costs about 0.1 s to import; only a run that evaluates needs it.
    """
    first = run_imports(place, tmp_path / "first.json")
    sent = place.sent_items()
    modules = run_imports(place, tmp_path / "second.json")
    assert place.sent_items() == sent  # the second run sent nothing
    assert "sqlglot" in first  # the first one evaluated its segments
    assert "audiencesync.sync.runner" in modules  # and the second did run
    assert sorted(m for m in modules if m.split(".")[0] == "sqlglot") == []


@pytest.mark.socket
def test_a_run_that_sends_a_small_plan_imports_no_arrow(
    place: Place, tmp_path: Path
) -> None:
    """A plan of a few thousand rows is planned, sent and committed without pyarrow.

    Importing it (with numpy, where installed) costs a 1 % churn run more than
    reading its plan: 0.2-0.3 s on a busy two-core machine.
    """
    modules = run_imports(place, tmp_path / "modules.json")
    assert place.sent_items()["lists/subscribe"] > 0  # it did plan and send
    assert sorted(m for m in modules if m.split(".")[0] in {"pyarrow", "numpy"}) == []


@pytest.mark.socket
def test_a_removal_iterable_did_not_find_imports_no_arrow(
    place: Place, tmp_path: Path
) -> None:
    """A leaver already gone from the list is matched to the plan without pyarrow.

    Iterable answers such a removal with ``notFoundEmails``; naming the batch's
    rows read them with pyarrow, which imported numpy and pandas (0.8 s).
    """
    run_imports(place, tmp_path / "first.json")
    headers = {"Api-Key": DEFAULT_API_KEY}
    lists = httpx.get(f"{place.url}/api/lists", headers=headers).json()["lists"]
    [france] = [entry["id"] for entry in lists if entry["name"] == "France"]
    gone = {"listId": france, "subscribers": [{"email": "ben@example.com"}]}
    httpx.post(f"{place.url}/api/lists/unsubscribe", headers=headers, json=gone)
    place.reimport(SECOND)  # ben leaves France
    modules = run_imports(place, tmp_path / "second.json")
    assert "ben@example.com" not in place.emulator.list_members(france)
    assert place.sent_items()["lists/unsubscribe"] >= 2  # ours, after the above
    assert sorted(m for m in modules if m.split(".")[0] in {"pyarrow", "numpy"}) == []


@pytest.mark.socket
def test_exports_list_imports_no_web_app_nor_migrations(
    place: Place, tmp_path: Path
) -> None:
    """``exports list`` opens the data folder and loads nothing of the web app."""
    home = {"AUDIENCESYNC_HOME": str(place.settings.home)}
    modules = imported(["exports", "list"], tmp_path / "modules.json", home)
    assert "audiencesync.store" in modules  # it did open the data folder
    assert sorted(modules & SERVING) == []


def test_each_summary_is_the_commands_own_help() -> None:
    """The root help lists what each command's own help says first."""
    group = get_command(app)
    assert isinstance(group, TyperGroup)
    for entry in ENTRIES:
        real = group.commands[entry.name]
        first = (real.help or "").strip().split("\n\n")[0].replace("\n", " ")
        assert (entry.name, entry.summary) == (entry.name, first)


def test_root_help_lists_every_command_once() -> None:
    """``--help`` names each top-level command in the registry's order."""
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    listed = [
        line.split()[1]
        for line in result.stdout.splitlines()
        if line.startswith("│ ") and not line.startswith("│ --")
    ]
    assert listed == [entry.name for entry in ENTRIES]


def test_a_mistyped_command_is_still_suggested() -> None:
    """``exprts`` is refused with the nearest command, without loading them all."""
    result = CliRunner().invoke(app, ["exprts"])
    assert result.exit_code == 2
    assert "Did you mean 'exports'?" in result.output
