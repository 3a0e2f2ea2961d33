"""Scratch databases: the sync DuckDB is capped and spills inside the data folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from audiencesync.sync import plan as plan_module
from audiencesync.sync import state as state_module
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import PLAN_FILE, plan_binding
from audiencesync.sync.scratch import (
    PLAN_MEMORY_LIMIT,
    SPILL_PREFIX,
    STATE_MEMORY_LIMIT,
    open_scratch,
)
from audiencesync.sync.state import commit_state, prepare_state

Seen = list[tuple[str, Path]]


def rendered(limit: str) -> str:
    """How DuckDB reports a memory limit once set (``1GB`` is ``953.6 MiB``)."""
    with duckdb.connect(config={"memory_limit": limit}) as con:
        [(limit,)] = con.execute("SELECT current_setting('memory_limit')").fetchall()
    return str(limit)


def settings_of(con: duckdb.DuckDBPyConnection) -> tuple[str, Path]:
    """The connection's memory limit and spill folder."""
    [(limit, spill)] = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchall()
    return str(limit), Path(str(spill))


def recording(seen: Seen) -> Any:
    """``open_scratch`` that notes each database's settings."""

    @contextmanager
    def opened(folder: Path, **options: Any) -> Iterator[duckdb.DuckDBPyConnection]:
        with open_scratch(folder, **options) as con:
            seen.append(settings_of(con))
            yield con

    return opened


def plan_two(out: Path) -> None:
    """Plan two members into ``out``."""
    members = pa.record_batch({"id": [1, 2], "email": ["a@x.com", "b@x.com"]})
    plan_binding([members], mapping=ExportMapping("email"), state=None, out=out)


def test_scratch_database_is_capped_and_spills_inside_its_folder(
    tmp_path: Path,
) -> None:
    """A scratch database has the given memory limit and a spill folder of its own."""
    with open_scratch(tmp_path, memory_limit=STATE_MEMORY_LIMIT) as con:
        limit, spill = settings_of(con)
    assert limit == rendered(STATE_MEMORY_LIMIT)
    assert spill.parent == tmp_path
    assert spill.name.startswith(SPILL_PREFIX)


def test_scratch_spill_folder_is_removed_on_close(tmp_path: Path) -> None:
    """Closing a scratch database leaves nothing in the folder."""
    with open_scratch(tmp_path, memory_limit=STATE_MEMORY_LIMIT) as con:
        _, spill = settings_of(con)
        (spill / "spilled.block").write_bytes(b"x")
    assert list(tmp_path.iterdir()) == []


def test_plan_database_is_capped_and_spills_into_the_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning runs under the plan memory limit, spilling beside the plan."""
    seen: Seen = []
    monkeypatch.setattr(plan_module, "open_scratch", recording(seen))
    out = tmp_path / "run"
    plan_two(out)
    [(limit, spill)] = seen
    assert (limit, spill.parent) == (rendered(PLAN_MEMORY_LIMIT), out)
    assert sorted(p.name for p in out.iterdir()) == ["invalid.parquet", PLAN_FILE]


def test_state_databases_are_capped_and_spill_into_the_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Preparing and committing a state run under the state memory limit."""
    out = tmp_path / "run"
    plan_two(out)
    seen: Seen = []
    monkeypatch.setattr(state_module, "open_scratch", recording(seen))
    state = tmp_path / "state.parquet"
    prepare_state(state, out / PLAN_FILE, 1, out=out / "prepared.parquet")
    commit_state(state, out / PLAN_FILE, [1])
    expected = (rendered(STATE_MEMORY_LIMIT), out)
    assert [(limit, spill.parent) for limit, spill in seen] == [expected, expected]
