"""Reading many segments at once: a page of them, and their counts histories.

The segments page shows 50 segments with a trend each; these reads take a fixed
number of queries however many segments there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from audiencesync.app.home import initialize
from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.auth.roles import Actor, Role
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.rules import parse_where
from audiencesync.segments.service import SegmentService
from audiencesync.settings import load_settings
from tests.segments.histories import START, seed_histories, statements

CUSTOMERS = "customer_id,email,country\nC1,ana@example.com,FR\nC2,ben@example.com,DE\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """An initialised data folder with two customers."""
    settings = load_settings(home=tmp_path / "home")
    initialize(settings)
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    import_profiles(settings, source)
    with open_workspace(settings) as opened:
        yield opened


def _as(workspace: Workspace, role: Role) -> SegmentService:
    return SegmentService(
        workspace.database, workspace.engine, actor=Actor(role.value, role)
    )


def test_histories_are_newest_first_and_cut_at_the_limit(
    workspace: Workspace,
) -> None:
    """Each segment's latest evaluations, newest first, at most ``limit``."""
    seed_histories(workspace.database, {"A": [1, 2, 3, 4], "B": [10, None], "C": []})

    found = _as(workspace, Role.VIEWER).histories(["A", "b", "C"], limit=3)

    assert [record.member_count for record in found["A"]] == [4, 3, 2]
    assert found["A"][0].evaluated_at == START + timedelta(hours=3)  # in UTC
    assert [record.member_count for record in found["B"]] == [None, 10]
    assert found["C"] == []


def test_histories_leave_out_names_of_no_segment(workspace: Workspace) -> None:
    """An unknown name is not an error; it is absent from the answer."""
    seed_histories(workspace.database, {"A": [1]})

    found = _as(workspace, Role.VIEWER).histories(["A", "Nowhere"])

    assert list(found) == ["A"]


def test_histories_of_many_segments_take_a_fixed_number_of_queries(
    workspace: Workspace,
) -> None:
    """Reading 5 or 200 segments' histories runs the same number of statements."""
    seed_histories(
        workspace.database,
        {f"S{index:03d}": [index, index + 1] for index in range(200)},
    )
    service = _as(workspace, Role.VIEWER)

    with statements(workspace.database) as few:
        service.histories([f"S{index:03d}" for index in range(5)])
    with statements(workspace.database) as many:
        found = service.histories([f"S{index:03d}" for index in range(200)])

    assert len(many) == len(few)
    assert [record.member_count for record in found["S150"]] == [151, 150]


def test_a_page_of_segments_is_in_name_order_with_the_total(
    workspace: Workspace,
) -> None:
    """list_page: ``limit`` segments from ``offset`` by name, their latest count."""
    seed_histories(workspace.database, {"b": [1, 2], "A": [5], "c": []})

    page, total = _as(workspace, Role.VIEWER).list_page(limit=2, offset=1)

    assert total == 3
    assert [(info.name, info.member_count) for info in page] == [("b", 2), ("c", None)]


def test_a_page_of_segments_takes_a_fixed_number_of_queries(
    workspace: Workspace,
) -> None:
    """A page of 50 runs as many statements as a page of 2 (no query per segment)."""
    seed_histories(
        workspace.database, {f"S{index:03d}": [index] for index in range(120)}
    )
    service = _as(workspace, Role.VIEWER)

    with statements(workspace.database) as few:
        service.list_page(limit=2)
    with statements(workspace.database) as many:
        page, _ = service.list_page(limit=50, offset=50)

    assert len(many) == len(few)
    assert page[0].name == "S050"
    assert page[0].member_count == 50


def test_every_segment_lists_with_its_latest_count(workspace: Workspace) -> None:
    """list_all gives each segment its newest evaluation, failed ones included."""
    seed_histories(workspace.database, {"A": [1, 7], "B": [3, None]})

    found = {info.name: info.last for info in _as(workspace, Role.VIEWER).list_all()}

    assert found["A"] is not None
    assert found["A"].member_count == 7
    assert found["B"] is not None
    assert found["B"].error == "failed"


def test_a_segment_created_by_the_service_has_its_first_count(
    workspace: Workspace,
) -> None:
    """A segment saved through the service lists with the count saving took."""
    service = _as(workspace, Role.CONTRIBUTOR)
    service.create("France", parse_where("country = 'FR'"))

    page, total = service.list_page(limit=10)

    assert total == 1
    assert page[0].member_count == 1
    assert [r.member_count for r in service.histories(["France"])["France"]] == [1]
