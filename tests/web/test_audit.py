"""``/api/v1/audit``: the audit log, newest first, a page at a time."""

from __future__ import annotations

import pytest

from tests.web.conftest import Api

# The fixture's changes, oldest first: init adds admin, admin adds two users,
# then each of the three gets a token.
FIXTURE_EVENTS = 6


@pytest.mark.parametrize(
    ("role", "expected"),
    [("admin", 200), ("contributor", 403), ("viewer", 403), (None, 401)],
)
def test_only_administrators_read_the_audit_log(
    api: Api, role: str | None, expected: int
) -> None:
    """Administrators read it; others get 403, no token 401; reading changes nothing."""
    before = api.audit_actions()
    answer = api.client.get("/api/v1/audit", headers=api.auth(role))
    assert answer.status_code == expected
    assert api.audit_actions() == before


def test_the_audit_log_is_newest_first_with_every_column(api: Api) -> None:
    """The latest change comes first, with at, actor, action, target and details."""
    nina = {"name": "nina", "role": "viewer"}
    api.client.post("/api/v1/users", json=nina, headers=api.auth("admin"))
    page = api.client.get("/api/v1/audit", headers=api.auth("admin")).json()
    assert page["total"] == FIXTURE_EVENTS + 1
    first = page["items"][0]
    assert (first["actor"], first["action"], first["target_type"], first["target"]) == (
        "admin",
        "user.add",
        "user",
        "nina",
    )
    assert first["details"] == {"role": "viewer", "has_password": False}
    assert first["at"].endswith("Z")


def test_limit_and_offset_page_through_the_log(api: Api) -> None:
    """Pages of 4 from offset 0 and 4 hold every event once, in order."""
    headers = api.auth("admin")
    first = api.client.get("/api/v1/audit?limit=4", headers=headers).json()
    second = api.client.get("/api/v1/audit?limit=4&offset=4", headers=headers).json()
    everything = api.client.get("/api/v1/audit?limit=500", headers=headers).json()
    assert (first["total"], first["limit"], first["offset"]) == (FIXTURE_EVENTS, 4, 0)
    assert (second["offset"], len(second["items"])) == (4, FIXTURE_EVENTS - 4)
    assert first["items"] + second["items"] == everything["items"]
    assert everything["items"][-1]["actor"] == "init"


def test_an_offset_past_the_end_is_an_empty_page(api: Api) -> None:
    """Nothing there: no items, the total still said."""
    page = api.client.get("/api/v1/audit?offset=1000", headers=api.auth("admin")).json()
    assert (page["items"], page["total"]) == ([], FIXTURE_EVENTS)


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "offset=-1", "limit=x", "offset=1e30"]
)
def test_bad_paging_is_a_422(api: Api, query: str) -> None:
    """limit is 1..500, offset at least 0: anything else is refused by name."""
    answer = api.client.get(f"/api/v1/audit?{query}", headers=api.auth("admin"))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"
