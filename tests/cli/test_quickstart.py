"""``audiencesync quickstart --no-serve``: everything set up, run and read back."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.app.workspace import open_workspace
from audiencesync.cli import app
from audiencesync.core.emails import is_valid_email
from audiencesync.demo.quickstart import CONNECTION, EMULATOR_STATE, SAMPLE_SEGMENTS
from audiencesync.emulator import Emulator, EmulatorConfig
from audiencesync.settings import load_settings

PROFILES = "3000"


def _quickstart(home: Path) -> Result:
    result = CliRunner().invoke(
        app,
        ["quickstart", "--no-serve", "--home", str(home), "--profiles", PROFILES],
        env={"COLUMNS": "200"},  # whole table cells
    )
    assert result.exit_code == 0, result.output
    return result


def _run(home: Path, run_id: int) -> dict[str, object]:
    result = CliRunner().invoke(
        app, ["runs", "show", str(run_id), "--json", "--home", str(home)]
    )
    assert result.exit_code == 0, result.output
    run: dict[str, object] = json.loads(result.stdout)
    return run


def _valid_members(home: Path, segment: str) -> set[str]:
    """The segment's emails as Iterable should hold them: trimmed, lowercased, valid."""
    with open_workspace(load_settings(home=home)) as workspace:
        emails = (
            str(raw or "").strip().lower()
            for batch in workspace.segments.evaluate(segment, columns=["email"])
            for raw in batch.column("email").to_pylist()
        )
        return {email for email in emails if is_valid_email(email)}


def _emulator(home: Path) -> Emulator:
    """The emulator's saved state, loaded into a fresh (unserved) emulator."""
    return Emulator(EmulatorConfig(state_file=home / EMULATOR_STATE))


def _landed_rows(output: str) -> dict[str, list[str]]:
    """The cells of the "What landed" table, by list name."""
    table = output.split("What landed in Iterable")[1]
    rows = [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in table.splitlines()
        if line.startswith("│")
    ]
    return {row[0]: row for row in rows}


def _api_key(home: Path) -> str:
    with open_workspace(load_settings(home=home)) as workspace:
        return workspace.connections.api_key_for_export(CONNECTION).api_key.reveal()


def test_lists_hold_exactly_the_segments_valid_members(tmp_path: Path) -> None:
    """Each list equals its segment's valid emails, less those Iterable forgot."""
    home = tmp_path / "home"
    _quickstart(home)
    emulator = _emulator(home)
    forgotten = emulator.store.projects[1].forgotten.emails
    segments = _run(home, 1)["segments"]
    assert isinstance(segments, list)
    assert [s["segment"] for s in segments] == [s.name for s in SAMPLE_SEGMENTS]
    assert len(forgotten) == 3
    for segment in segments:
        expected = _valid_members(home, segment["segment"]) - forgotten
        assert emulator.list_members(segment["list_id"]) == expected


def test_output_names_each_list_its_size_and_rejects(tmp_path: Path) -> None:
    """The "What landed" table shows each list's name, id, size and rejects."""
    home = tmp_path / "home"
    output = _quickstart(home).output
    emulator = _emulator(home)
    segments = _run(home, 1)["segments"]
    assert isinstance(segments, list)
    landed = _landed_rows(output)
    for segment in segments:
        size = len(emulator.list_members(segment["list_id"]))
        expected = [segment["segment"], str(segment["list_id"]), f"{size:,}"]
        assert landed[segment["segment"]][:3] == expected
    first = landed[SAMPLE_SEGMENTS[0].name]
    assert first[4].endswith("invalid in source; 3 forgotten")
    assert "Done  in " in output


def test_no_api_key_or_address_is_shown_or_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The generated key never reaches the output or a log record; no email does."""
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "home"
    output = _quickstart(home).output
    key = _api_key(home)
    assert key not in output
    assert key not in caplog.text
    assert "@" not in output


def test_a_second_run_reuses_everything_and_sends_only_changes(
    tmp_path: Path,
) -> None:
    """Run again in the same folder: same lists, nothing added, all unchanged."""
    home = tmp_path / "home"
    _quickstart(home)
    output = _quickstart(home).output
    first, second = _run(home, 1)["segments"], _run(home, 2)["segments"]
    assert isinstance(first, list)
    assert isinstance(second, list)
    for before, after in zip(first, second, strict=True):
        assert (after["list_id"], after["list_action"]) == (
            before["list_id"],
            "existing",
        )
        assert (after["added"], after["removed"]) == (0, 0)
        assert after["unchanged"] == before["added"]
    assert "(kept)" in output
