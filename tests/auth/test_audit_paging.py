"""The audit log a page at a time, newest first, filtered by actor, action and day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from audiencesync.auth.audit import AuditFilter
from audiencesync.auth.users import UserService
from audiencesync.store import AuditEvent, Database
from tests.auth.conftest import as_user

START = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def logged(team: Database) -> Database:
    """Thirty events a day apart from 1 June: ana adds, Vic edits, every third."""
    rows = [
        {
            "at": START + timedelta(days=n),
            "actor": "Vic" if n % 3 == 0 else "ana",
            "action": "segment.edit" if n % 3 == 0 else "segment.create",
            "target_type": "segment",
            "target": f"s{n}",
            "details": {"n": n},
        }
        for n in range(30)
    ]
    with team.session() as session:
        session.execute(insert(AuditEvent), rows)
    return team


def _targets(service: UserService, **filters: object) -> list[str]:
    where = AuditFilter(**filters)  # type: ignore[arg-type]
    page = service.read_audit_page(limit=1000, where=where)
    return [entry.target for entry in page.entries if entry.target_type == "segment"]


def test_pages_follow_each_other_newest_first(logged: Database) -> None:
    """Offset pages of 7: no event twice, none missed, newest first."""
    admin = as_user(logged, "admin")
    seen: list[str] = []
    for offset in range(0, 40, 7):
        page = admin.read_audit_page(limit=7, offset=offset)
        seen += [entry.target for entry in page.entries]

    segments = [target for target in seen if target.startswith("s")]
    assert segments == [f"s{n}" for n in reversed(range(30))]
    assert len(seen) == len(set(seen)) == page.total


def test_an_actor_filter_keeps_their_events_in_any_letter_case(
    logged: Database,
) -> None:
    """vic matches Vic; the total counts the kept events only."""
    admin = as_user(logged, "admin")

    page = admin.read_audit_page(limit=5, where=AuditFilter(actor="vic"))

    assert page.total == 10
    assert [entry.target for entry in page.entries] == ["s27", "s24", "s21", "s18",
                                                         "s15"]  # fmt: skip


def test_an_action_filter_keeps_that_action(logged: Database) -> None:
    """Only segment.edit events."""
    targets = _targets(as_user(logged, "admin"), action="segment.edit")

    assert targets == [f"s{n}" for n in reversed(range(0, 30, 3))]


def test_since_keeps_events_from_that_moment_on(logged: Database) -> None:
    """Inclusive: from 28 June at midnight, the events of 28, 29 and 30 June."""
    since = START + timedelta(days=27)

    assert _targets(as_user(logged, "admin"), since=since) == ["s29", "s28", "s27"]


def test_filters_combine(logged: Database) -> None:
    """Vic's edits since 20 June."""
    targets = _targets(as_user(logged, "admin"), actor="Vic",
                       action="segment.edit",
                       since=START + timedelta(days=19))  # fmt: skip

    assert targets == ["s27", "s24", "s21"]
