"""A sync state is trusted only when it proves it is this binding's, for this list."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from audiencesync.app.home import initialize
from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.where import parse_where
from audiencesync.settings import DATABASE_FILE
from audiencesync.store.runs import Binding
from audiencesync.sync.segment_pass import state_path
from audiencesync.sync.state import StateIdentity, read_identity
from tests.sync.place import EXPORT, FRANCE, GERMANY, Place


def strip_identity(path: Path) -> None:
    """Rewrite a state file as versions before identities wrote it (same mtime)."""
    stat = path.stat()
    table = pq.read_table(path).replace_schema_metadata(None)
    pq.write_table(table, path)
    os.utime(path, (stat.st_atime, stat.st_mtime))


def lose_the_database(place: Place) -> None:
    """Delete the control-plane database, `init` again, re-add everything."""
    (place.settings.home / DATABASE_FILE).unlink()
    place.emulator.store.projects[1].lists.clear()  # the old lists are gone too
    initialize(place.settings)
    import_profiles(place.settings, place.source, replace=True)
    with open_workspace(place.settings) as workspace:
        workspace.segments.create("France", parse_where("country = 'FR'"))
        workspace.segments.create("Germany", parse_where("country = 'DE'"))
        workspace.connections.add(
            "Iterable", api_key=DEFAULT_API_KEY, base_url=place.url, shared=True,
            agreed=True,
        )  # fmt: skip
        workspace.exports.add(
            EXPORT, connection="Iterable", email_field="email",
            segments=["France", "Germany"], fields={"plan": "plan"}, removal_brake=50,
        )  # fmt: skip


@pytest.mark.parametrize("written", ["stamped", "legacy"])
def test_a_new_database_never_trusts_the_old_sync_state(
    place: Place, written: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Database lost, init again, export re-added: its created lists get everyone."""
    place.run()
    if written == "legacy":
        for binding_id in (1, 2):
            strip_identity(state_path(place.settings.home, binding_id))

    lose_the_database(place)
    with caplog.at_level(logging.WARNING, logger="audiencesync.sync.state_trust"):
        run = place.run()

    lines = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert len(lines) == 2
    assert not [line for line in lines if "@" in line]

    france, germany = run.segments
    assert (france.list_action, germany.list_action) == ("created", "created")
    assert (france.added, germany.added) == (len(FRANCE), len(GERMANY))
    assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}


def test_every_state_written_carries_the_binding_and_its_list(place: Place) -> None:
    """After a run, each state file names its binding's state key and list id."""
    run = place.run()

    with open_workspace(place.settings) as workspace, workspace.database.session() as s:
        rows = s.scalars(select(Binding).order_by(Binding.id)).all()
        expected = {b.id: StateIdentity(b.state_key, b.list_id or 0) for b in rows}
    assert [p.list_id for p in run.segments] == [e.list_id for e in expected.values()]
    for binding_id, identity in expected.items():
        assert read_identity(state_path(place.settings.home, binding_id)) == identity


def test_a_legacy_state_of_a_binding_that_ran_is_trusted_once(place: Place) -> None:
    """A pre-upgrade state of this binding is used (nothing resent) and stamped."""
    place.run()
    france = state_path(place.settings.home, 1)
    strip_identity(france)
    place.emulator.reset_requests()

    place.run()

    assert place.sent_items() == {}
    assert read_identity(france) is None  # nothing to commit: stamped next time


def test_a_dry_run_ignores_a_foreign_state_but_leaves_it(place: Place) -> None:
    """A dry run plans a full send over a state that is not the binding's."""
    place.run()
    lose_the_database(place)
    france = state_path(place.settings.home, 1)

    with open_workspace(place.settings) as workspace:
        run = run_export(workspace, EXPORT, dry_run=True)

    assert run.segments[0].planned_add == len(FRANCE)
    assert france.exists()
