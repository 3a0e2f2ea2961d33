"""Issue 5, acceptance 1: three segments, two runs, lists read back with getUsers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from audiencesync.app.workspace import open_workspace
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.iterable.client import IterableClient
from audiencesync.segments.where import parse_where
from audiencesync.sync.history import RunInfo
from tests.sync.place import EXPORT, FRANCE, GERMANY, SECOND, Place

pytestmark = pytest.mark.socket

GOLD = frozenset({"ana@example.com", "cleo@example.com"})


def _get_users(place: Place, run: RunInfo) -> dict[str, frozenset[str]]:
    """Each segment's list as Iterable's getUsers returns it."""

    async def read() -> dict[str, frozenset[str]]:
        async with IterableClient(DEFAULT_API_KEY, base_url=place.url) as client:
            return {
                part.segment_name: frozenset(
                    await client.get_list_users(part.list_id or 0)
                )
                for part in run.segments
            }

    return asyncio.run(read())


@pytest.fixture
def three(place: Place) -> Place:
    """The place's export with a third segment: gold plan members."""
    with open_workspace(place.settings) as workspace:
        workspace.segments.create("Gold", parse_where("plan = 'gold'"))
        workspace.exports.edit(EXPORT, segments=["France", "Germany", "Gold"])
    return place


def test_lists_equal_segments_and_then_only_changes_are_sent(
    three: Place, tmp_path: Path
) -> None:
    """Run 1 fills three lists exactly; run 2 sends only joiners, leavers, changes."""
    del tmp_path
    first = three.run()
    assert _get_users(three, first) == {
        "France": FRANCE, "Germany": GERMANY, "Gold": GOLD,
    }  # fmt: skip
    three.reimport(SECOND)  # ben FR->DE, fay joins FR, ana gold->silver
    three.emulator.reset_requests()

    second = three.run()

    assert _get_users(three, second) == {
        "France": (FRANCE - {"ben@example.com"}) | {"fay@example.com"},
        "Germany": GERMANY | {"ben@example.com"},
        "Gold": GOLD,  # ana is still gold through C6, her second profile
    }
    # France: ana (plan changed) and fay subscribed, ben removed; Germany: ben.
    assert three.sent_items() == {"lists/subscribe": 3, "lists/unsubscribe": 1}
    assert [s.list_id for s in second.segments] == [s.list_id for s in first.segments]
