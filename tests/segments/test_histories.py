"""Reading many segments at once: a page of them, and their counts histories.

The segments page shows 50 segments with a trend each; these reads take a fixed
number of queries however many segments there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from audiencesync.app.home import initialize
from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.auth.roles import Actor, Role
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.rules import parse_where
from audiencesync.segments.service import SegmentService
from audiencesync.settings import load_settings
from audiencesync.store.models import Segment, SegmentEvaluation

CUSTOMERS = "customer_id,email,country\nC1,ana@example.com,FR\nC2,ben@example.com,DE\n"
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


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


def _seed(workspace: Workspace, counts: dict[str, list[int | None]]) -> None:
    """Segments named as the keys, each with evaluations of these counts, in order."""
    with workspace.database.session() as session:
        for name, history in counts.items():
            segment = Segment(
                name=name, name_key=name.casefold(), kind="where",
                definition={"kind": "where", "where": "country = 'FR'"},
                created_at=START, updated_at=START,
            )  # fmt: skip
            session.add(segment)
            session.flush()
            session.add_all(
                SegmentEvaluation(
                    segment_id=segment.id,
                    evaluated_at=START + timedelta(hours=hour),
                    member_count=count,
                    duration_ms=1,
                    engine="duckdb",
                    error=None if count is not None else "failed",
                )
                for hour, count in enumerate(history)
            )


@contextmanager
def _counting(workspace: Workspace) -> Iterator[list[str]]:
    """The SQL statements run on the control-plane database in the block."""
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = workspace.database.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_histories_are_newest_first_and_cut_at_the_limit(
    workspace: Workspace,
) -> None:
    """Each segment's latest evaluations, newest first, at most ``limit``."""
    _seed(workspace, {"A": [1, 2, 3, 4], "B": [10, None], "C": []})

    found = _as(workspace, Role.VIEWER).histories(["A", "b", "C"], limit=3)

    assert [record.member_count for record in found["A"]] == [4, 3, 2]
    assert found["A"][0].evaluated_at == START + timedelta(hours=3)  # in UTC
    assert [record.member_count for record in found["B"]] == [None, 10]
    assert found["C"] == []


def test_histories_leave_out_names_of_no_segment(workspace: Workspace) -> None:
    """An unknown name is not an error; it is absent from the answer."""
    _seed(workspace, {"A": [1]})

    found = _as(workspace, Role.VIEWER).histories(["A", "Nowhere"])

    assert list(found) == ["A"]


def test_histories_of_many_segments_take_a_fixed_number_of_queries(
    workspace: Workspace,
) -> None:
    """Reading 5 or 200 segments' histories runs the same number of statements."""
    _seed(workspace, {f"S{index:03d}": [index, index + 1] for index in range(200)})
    service = _as(workspace, Role.VIEWER)

    with _counting(workspace) as few:
        service.histories([f"S{index:03d}" for index in range(5)])
    with _counting(workspace) as many:
        found = service.histories([f"S{index:03d}" for index in range(200)])

    assert len(many) == len(few)
    assert [record.member_count for record in found["S150"]] == [151, 150]


def test_a_page_of_segments_is_in_name_order_with_the_total(
    workspace: Workspace,
) -> None:
    """list_page: ``limit`` segments from ``offset`` by name, their latest count."""
    _seed(workspace, {"b": [1, 2], "A": [5], "c": []})

    page, total = _as(workspace, Role.VIEWER).list_page(limit=2, offset=1)

    assert total == 3
    assert [(info.name, info.member_count) for info in page] == [("b", 2), ("c", None)]


def test_a_page_of_segments_takes_a_fixed_number_of_queries(
    workspace: Workspace,
) -> None:
    """A page of 50 runs as many statements as a page of 2 (no query per segment)."""
    _seed(workspace, {f"S{index:03d}": [index] for index in range(120)})
    service = _as(workspace, Role.VIEWER)

    with _counting(workspace) as few:
        service.list_page(limit=2)
    with _counting(workspace) as many:
        page, _ = service.list_page(limit=50, offset=50)

    assert len(many) == len(few)
    assert page[0].name == "S050"
    assert page[0].member_count == 50


def test_every_segment_lists_with_its_latest_count(workspace: Workspace) -> None:
    """list_all gives each segment its newest evaluation, failed ones included."""
    _seed(workspace, {"A": [1, 7], "B": [3, None]})

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
