"""The CLI's ``runs show | list --json`` print exactly what the API answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiencesync.cli import app
from audiencesync.emulator import serve_in_thread
from audiencesync.settings import Settings
from tests.app.stage import EXPORT, Stage, make_emulator, stage
from tests.web.conftest import Api

pytestmark = pytest.mark.socket


@pytest.fixture
def staged(api: Api, tmp_path: Path) -> Iterator[Stage]:
    """The API's data folder staged for runs: one finished run, one queued."""
    emulator = make_emulator()
    with serve_in_thread(emulator) as url:
        staged = stage(api.context, tmp_path, url, emulator)
        with staged.workspace() as workspace:
            workspace.runs.run(EXPORT)
            workspace.runs.request(EXPORT, full=True)
        yield staged


def _cli_json(settings: Settings, *args: str) -> object:
    env = {"AUDIENCESYNC_HOME": str(settings.home)}
    result = CliRunner().invoke(app, [*args, "--json", "--as", "admin"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("run_id", [1, 2])
def test_runs_show_is_the_api_run(
    api: Api, staged: Stage, settings: Settings, run_id: int
) -> None:
    """``runs show N --json`` equals ``GET /runs/N`` (a finished and a queued run)."""
    del staged
    answer = api.client.get(f"/api/v1/runs/{run_id}", headers=api.auth("admin"))

    assert _cli_json(settings, "runs", "show", str(run_id)) == answer.json()


def test_runs_list_is_the_api_page(api: Api, staged: Stage, settings: Settings) -> None:
    """``runs list --json`` equals the items of ``GET /runs``."""
    del staged
    answer = api.client.get("/api/v1/runs", headers=api.auth("admin"))

    assert _cli_json(settings, "runs", "list") == answer.json()["items"]


def test_runs_rejects_is_the_api_page(
    api: Api, staged: Stage, settings: Settings
) -> None:
    """``runs rejects 1 --json`` equals the items of ``GET /runs/1/rejects``."""
    del staged
    answer = api.client.get("/api/v1/runs/1/rejects", headers=api.auth("admin"))

    assert _cli_json(settings, "runs", "rejects", "1") == answer.json()["items"]
