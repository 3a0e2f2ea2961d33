"""Administrator > Audit log in the pages: newest first, filtered, a page at a time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from audiencesync.store.accounts import AuditEvent
from tests.web.conftest import Api
from tests.web.test_pages import sign_in

ADMIN_PASSWORD = "correct horse 9"
START = datetime(2026, 6, 1, tzinfo=UTC)


def _as_admin(api: Api) -> TestClient:
    with api.workspace() as workspace:
        workspace.users.set_password("admin", ADMIN_PASSWORD)
    sign_in(api.client, "admin", ADMIN_PASSWORD)
    return api.client


def _log(api: Api, count: int, *, batch: int = 20_000) -> None:
    """``count`` events by ana, a minute apart from 1 June, on segments s0, s1..."""
    with api.context.database.session() as session:
        for first in range(0, count, batch):
            rows = [
                {"at": START + timedelta(minutes=n), "actor": "ana",
                 "action": "segment.edit" if n % 2 else "segment.create",
                 "target_type": "segment", "target": f"s{n}", "details": {"n": n}}
                for n in range(first, min(first + batch, count))
            ]  # fmt: skip
            session.execute(insert(AuditEvent), rows)


def _actions(page: str) -> list[str]:
    """The action of each event shown, from the top."""
    return re.findall(r'title="[^"]*">([a-z_]+\.[a-z_]+)</a></td>', page)


def _targets(page: str) -> list[str]:
    return re.findall(r'<span class="hint">segment</span> (s\d+)</td>', page)


def test_an_administrator_reads_the_changes_newest_first(api: Api) -> None:
    """When (UTC), who, action, subject and details of each event."""
    client = _as_admin(api)
    with api.workspace() as workspace:
        workspace.users.set_role("viewer", "contributor")  # type: ignore[arg-type]

    page = client.get("/audit").text

    assert "<h1>Audit log</h1>" in page
    assert _actions(page)[0] == "user.set_role"
    assert "user.add" in _actions(page)[1:]
    assert "from: viewer; to: contributor" in page
    assert " UTC</td>" in page


@pytest.mark.parametrize("role", ["contributor", "viewer"])
def test_other_roles_are_told_only_administrators_read_it(api: Api, role: str) -> None:
    """403 and a page saying so, with no event."""
    sign_in(api.client, role)

    page = api.client.get("/audit")

    assert page.status_code == 403
    assert "Only administrators read the audit log." in page.text
    assert _actions(page.text) == []


def test_no_email_address_is_shown(api: Api) -> None:
    """An address set on a user: the event says that one is set, never which."""
    client = _as_admin(api)
    with api.workspace() as workspace:
        workspace.users.set_email("viewer", "vera@example.com")

    page = client.get("/audit").text

    assert "user.set_email" in page
    assert "has_email: true" in page
    assert "vera@example.com" not in page


def test_pages_of_fifty_follow_each_other_with_their_filters(api: Api) -> None:
    """120 events of one action: 50, 50, then the rest; the links keep the filter."""
    client = _as_admin(api)
    _log(api, 240)

    first = client.get("/audit", params={"action": "segment.edit"}).text
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&")).text
    last = client.get("/audit?action=segment.edit&offset=100").text

    assert _targets(first) == [f"s{n}" for n in range(239, 139, -2)]
    assert _targets(second) == [f"s{n}" for n in range(139, 39, -2)]
    assert _targets(last) == [f"s{n}" for n in range(39, 0, -2)]
    assert "Events 101 to 120 of 120, newest first." in last
    assert 'rel="next"' not in last
    assert 'href="/audit?action=segment.edit&amp;offset=50" rel="prev"' in last


def test_the_user_and_day_filters(api: Api) -> None:
    """ana's events from 2 June on: the ones of the second day only."""
    client = _as_admin(api)
    _log(api, 3000)  # 1 June 00:00 to 3 June 01:59

    page = client.get("/audit", params={"actor": "ANA", "since": "2026-06-03"}).text

    assert "Events 1 to 50 of 120, newest first." in page
    assert set(_actions(page)) == {"segment.create", "segment.edit"}


def test_a_wrong_day_is_said_by_its_field(api: Api) -> None:
    """422, the error next to the day, and the log unfiltered by it."""
    page = _as_admin(api).get("/audit", params={"since": "June"})

    assert page.status_code == 422
    assert 'id="since-error"' in page.text
    assert "user.add" in _actions(page.text)


def test_a_long_log_reads_its_first_filtered_and_deep_pages(api: Api) -> None:
    """3,000 events: the first page, a filtered one and a deep one hold 50 each.

    How fast they are is measured by benchmarks/web_pages.py, not here.
    """
    client = _as_admin(api)
    _log(api, 3_000)

    for query in [
        {},
        {"actor": "ana", "action": "segment.edit", "since": "2026-06-01"},
        {"offset": "2900"},
    ]:
        answer = client.get("/audit", params=query)
        assert answer.status_code == 200
        assert len(re.findall(r" UTC</td>", answer.text)) == 50, query


def test_the_audit_log_is_in_french(api: Api) -> None:
    """Labels in French and the dates the French way."""
    client = _as_admin(api)
    _log(api, 1)
    client.post("/language", data={"lang": "fr", "back": "/audit"})

    page = client.get("/audit").text

    assert "<h1>Journal d\u2019audit</h1>" in page
    assert "1 juin 2026" in page
