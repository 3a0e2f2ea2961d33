"""Every change to users and tokens leaves exactly one audit event, with no secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from audiencesync.auth.directory import authenticate_password, authenticate_token
from audiencesync.auth.roles import Role
from audiencesync.auth.users import UserService
from audiencesync.errors import AudiencesyncError
from audiencesync.store import AuditEvent, Database, User
from tests.auth.conftest import as_user, audit_events

PASSWORD = "correct horse battery"
Change = Callable[[UserService], object]

CHANGES: list[tuple[str, Change, tuple[str, str, str, dict[str, Any]]]] = [
    (
        "add",
        lambda s: s.add("bea", role=Role.VIEWER, password=PASSWORD),
        ("admin", "user.add", "bea", {"role": "viewer", "has_password": True}),
    ),
    (
        "set-role",
        lambda s: s.set_role("vic", Role.CONTRIBUTOR),
        ("admin", "user.set_role", "vic", {"from": "viewer", "to": "contributor"}),
    ),
    (
        "remove",
        lambda s: s.remove("vic"),
        ("admin", "user.remove", "vic", {"role": "viewer", "tokens_revoked": 0}),
    ),
    (
        "token",
        lambda s: s.create_token("ana", label="ci"),
        ("admin", "token.create", "ana", {"label": "ci"}),
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [(change, expected) for _, change, expected in CHANGES],
    ids=[name for name, _, _ in CHANGES],
)
def test_each_change_writes_exactly_one_event(
    team: Database, change: Change, expected: tuple[str, str, str, dict[str, Any]]
) -> None:
    """One event per change: actor, action, target and details."""
    before = len(audit_events(team))
    change(as_user(team, "admin"))
    events = audit_events(team)
    assert len(events) == before + 1
    latest = events[0]
    assert (latest.actor, latest.action, latest.target, dict(latest.details)) == (
        expected
    )
    assert latest.target_type == "user"


def test_revoking_a_token_writes_one_event(team: Database) -> None:
    """``token.revoke`` names the user and the token's label."""
    admin = as_user(team, "admin")
    admin.create_token("ana", label="ci")
    before = len(audit_events(team))
    admin.revoke_token("ana", "ci")
    events = audit_events(team)
    assert len(events) == before + 1
    assert (events[0].action, events[0].target, dict(events[0].details)) == (
        "token.revoke",
        "ana",
        {"label": "ci"},
    )


def test_init_records_the_first_administrator(database: Database) -> None:
    """The first administrator's event is by ``init`` and marks the default user."""
    [event] = audit_events(database)
    assert (event.actor, event.action, event.target, dict(event.details)) == (
        "init",
        "user.add",
        "admin",
        {"role": "admin", "has_password": False, "default_user": True},
    )


REFUSED: list[tuple[str, str, Change]] = [
    ("viewer adds", "vic", lambda s: s.add("bea", role=Role.VIEWER)),
    ("contributor promotes", "ana", lambda s: s.set_role("ana", Role.ADMIN)),
    ("viewer removes", "vic", lambda s: s.remove("ana")),
    ("viewer token for other", "vic", lambda s: s.create_token("ana")),
    ("last admin demoted", "admin", lambda s: s.set_role("admin", Role.VIEWER)),
    ("self removal", "admin", lambda s: s.remove("admin")),
    ("duplicate", "admin", lambda s: s.add("ANA", role=Role.VIEWER)),
    ("short password", "admin", lambda s: s.add("bea", role=Role.VIEWER, password="x")),
    ("unknown token", "admin", lambda s: s.revoke_token("ana", "nope")),
]


@pytest.mark.parametrize(
    ("actor", "change"),
    [(actor, change) for _, actor, change in REFUSED],
    ids=[name for name, _, _ in REFUSED],
)
def test_refused_changes_write_no_event(
    team: Database, actor: str, change: Change
) -> None:
    """A refusal changes nothing, the audit log included."""
    before = audit_events(team)
    with pytest.raises(AudiencesyncError):
        change(as_user(team, actor))
    assert audit_events(team) == before


def test_unchanged_role_writes_no_event(team: Database) -> None:
    """Setting the role a user already has is not a change."""
    before = audit_events(team)
    as_user(team, "admin").set_role("vic", Role.VIEWER)
    assert audit_events(team) == before


def test_no_password_hash_or_token_in_audit_rows_or_logs(
    team: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A full round of secrets-handling leaves none of them in the log or the audit."""
    caplog.set_level(logging.DEBUG)
    admin = as_user(team, "admin")
    admin.add("bea", role=Role.ADMIN, password=PASSWORD)
    authenticate_password(team, "bea", PASSWORD)
    token, info = admin.create_token("bea", label="ci")
    authenticate_token(team, token)
    admin.revoke_token("bea", info.last4)
    admin.remove("bea")
    with team.session() as session:
        password_hash = session.scalar(
            select(User.password_hash).where(User.name == "bea")
        )
        rows = [
            json.dumps([e.actor, e.action, e.target_type, e.target, e.details])
            for e in session.scalars(select(AuditEvent))
        ]
    assert password_hash is not None
    secrets = [PASSWORD, token, token[3:11], password_hash, password_hash[-22:]]
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "token.create" in logged
    assert [s for s in secrets if s in logged or any(s in row for row in rows)] == []
