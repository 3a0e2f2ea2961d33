"""One Iterable list is fed by one binding: refused adoptions, saves and ambiguities."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.errors import ConflictError
from audiencesync.iterable import IterableClient
from audiencesync.segments.where import parse_where
from audiencesync.store.runs import Binding
from audiencesync.sync.history import run_info
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, FRANCE, GERMANY, Place


def make_lists(place: Place, *names: str) -> list[int]:
    """Create lists named ``names`` in the emulated project; their ids."""

    async def create() -> list[int]:
        async with IterableClient(DEFAULT_API_KEY, base_url=place.url) as client:
            return [await client.create_list(name) for name in names]

    return asyncio.run(create())


def test_a_new_segment_never_adopts_the_list_a_renamed_segment_feeds(
    place: Place,
) -> None:
    """RX renamed RY keeps its list; a new RX in the export is refused that list."""
    first = place.run()
    old_list = first.segments[0].list_id or 0
    with open_workspace(place.settings) as workspace:
        workspace.segments.update("France", new_name="France old")
        workspace.segments.create("France", parse_where("plan = 'gold'"))
        workspace.exports.edit(EXPORT, segments=["France old", "Germany", "France"])

    with pytest.raises(RunFailedError) as caught:
        place.run()

    message = str(caught.value)
    assert f"Iterable list {old_list} is already fed by segment 'France old'" in message
    assert f"of export {EXPORT!r}" in message
    assert "rename segment 'France'" in message
    assert place.emulator.list_members(old_list) == FRANCE
    with open_workspace(place.settings) as workspace, workspace.database.session() as s:
        parts = {p.segment_name: p for p in run_info(s, 2).segments}
    assert parts["France"].status is RunStatus.FAILED_PERMANENT
    assert parts["France"].list_id is None
    assert parts["Germany"].status is RunStatus.SUCCEEDED


def test_two_lists_named_like_the_segment_fail_that_segment_only(
    place: Place,
) -> None:
    """Two Iterable lists named "France": both ids shown, nothing sent to either."""
    ids = make_lists(place, "France", "France")

    with pytest.raises(RunFailedError) as caught:
        place.run()

    message = str(caught.value)
    assert f"ids {ids[0]} and {ids[1]}" in message
    assert "Delete or rename all but one of them in Iterable" in message
    assert all(place.emulator.list_members(list_id) == frozenset() for list_id in ids)
    with open_workspace(place.settings) as workspace, workspace.database.session() as s:
        run = run_info(s, 1)
    parts = {part.segment_name: part for part in run.segments}
    assert parts["France"].status is RunStatus.FAILED_PERMANENT
    assert parts["Germany"].status is RunStatus.SUCCEEDED
    assert place.emulator.list_members(parts["Germany"].list_id or 0) == GERMANY


def test_a_dry_run_reports_the_same_ambiguity(place: Place) -> None:
    """The dry run fails the segment with the same message; it creates nothing."""
    ids = make_lists(place, "France", "France")

    with (
        open_workspace(place.settings) as workspace,
        pytest.raises(RunFailedError, match=f"ids {ids[0]} and {ids[1]}"),
    ):
        run_export(workspace, EXPORT, dry_run=True)

    creates = [
        r
        for r in place.emulator.requests
        if (r.method, r.endpoint) == ("POST", "lists")
    ]
    assert len(creates) == 2  # the two made by the test


def test_a_second_export_of_a_segment_on_the_same_connection_is_refused(
    place: Place,
) -> None:
    """Saving an export whose segment another export has there names that export."""
    with (
        open_workspace(place.settings) as workspace,
        pytest.raises(
            ConflictError, match=r"already exported .* by export 'Newsletter'"
        ),
    ):
        workspace.exports.add(
            "Second", connection="Iterable", email_field="email", segments=["France"]
        )


def test_the_same_project_through_another_connection_is_refused_too(
    place: Place,
) -> None:
    """A connection with the same address and key is the same Iterable project."""
    with open_workspace(place.settings) as workspace:
        workspace.connections.add(
            "Iterable again", api_key=DEFAULT_API_KEY, base_url=place.url,
            shared=True, agreed=True,
        )  # fmt: skip
        with pytest.raises(ConflictError, match="by export 'Newsletter'"):
            workspace.exports.add(
                "Second", connection="Iterable again", email_field="email",
                segments=["Germany"],
            )  # fmt: skip


def test_editing_an_export_to_take_anothers_segment_is_refused(place: Place) -> None:
    """An edit that adds a segment another export feeds there is refused."""
    with open_workspace(place.settings) as workspace:
        workspace.segments.create("Gold", parse_where("plan = 'gold'"))
        workspace.exports.add(
            "Second", connection="Iterable", email_field="email", segments=["Gold"]
        )
        with pytest.raises(ConflictError, match="Segment 'Germany' is already"):
            workspace.exports.edit("Second", segments=["Gold", "Germany"])
        workspace.exports.edit("Second", schedule="0 6 * * *")  # others still save


def test_a_binding_that_stored_an_older_bindings_list_gives_it_up(
    place: Place,
) -> None:
    """Two bindings storing one list (made before the rule): the newer one fails."""
    with open_workspace(place.settings) as workspace:
        workspace.segments.create("Gold", parse_where("plan = 'gold'"))
        workspace.exports.edit(EXPORT, segments=["France", "Germany", "Gold"])
    first = place.run()
    france_list = first.segments[0].list_id
    with open_workspace(place.settings) as workspace, workspace.database.session() as s:
        gold = s.scalars(select(Binding).where(Binding.id == 3)).one()
        gold.list_id = france_list  # what adopting by name used to do

    with pytest.raises(RunFailedError, match="already fed by segment 'France'"):
        place.run()

    assert place.emulator.list_members(france_list or 0) == FRANCE
    with open_workspace(place.settings) as workspace, workspace.database.session() as s:
        assert s.get_one(Binding, 3).list_id is None
        assert s.get_one(Binding, 1).list_id == france_list
