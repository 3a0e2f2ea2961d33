"""Who is acting and who exists (audiencesync.auth.directory): lookups and logins."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from audiencesync.auth.directory import (
    admin_names,
    authenticate_password,
    authenticate_token,
    is_active_admin,
    normalize_user_name,
    resolve_actor,
)
from audiencesync.auth.roles import Actor, Role
from audiencesync.errors import AccessDeniedError, ConfigError, NotFoundError
from audiencesync.store import Database, User
from audiencesync.store.models import utc_now
from tests.auth.conftest import as_user

PASSWORD = "correct horse battery"


def test_resolve_actor_finds_a_user_in_any_letter_case(team: Database) -> None:
    """``--as ANA`` acts as ana, with her stored name and role."""
    assert resolve_actor(team, "ANA") == Actor("ana", Role.CONTRIBUTOR)


def test_resolve_actor_without_a_name_is_the_default_user(team: Database) -> None:
    """No ``--as``: the administrator init made."""
    assert resolve_actor(team, None) == Actor("admin", Role.ADMIN)


def test_resolve_actor_unknown_name_lists_the_users(team: Database) -> None:
    """An unknown name says which users exist and how to add one."""
    with pytest.raises(NotFoundError) as caught:
        resolve_actor(team, "zoe")
    assert str(caught.value) == (
        "No user named 'zoe'. Users: admin, ana, vic. An administrator can add one."
    )
    assert caught.value.code == "user_not_found"
    assert caught.value.details == {"name": "zoe"}


def test_resolve_actor_removed_user_is_refused_with_the_date(team: Database) -> None:
    """A removed user cannot act; the message gives the date and whom to ask."""
    as_user(team, "admin").remove("vic")
    with pytest.raises(AccessDeniedError) as caught:
        resolve_actor(team, "vic")
    assert str(caught.value) == (
        f"User 'vic' was removed on {utc_now().date().isoformat()};"
        " ask an administrator (admin) if you need access."
    )


def test_resolve_actor_removed_default_user_suggests_as(team: Database) -> None:
    """When the default user was removed, the message says to pick one with --as."""
    admin = as_user(team, "admin")
    admin.set_role("ana", Role.ADMIN)
    as_user(team, "ana").remove("admin")
    with pytest.raises(
        AccessDeniedError, match=r"default user; act as another user"
    ) as caught:
        resolve_actor(team, None)
    assert caught.value.code == "default_user_removed"


def test_resolve_actor_without_default_user_asks_to_run_init(
    bare_database: Database,
) -> None:
    """A database init never finished: the fix is `audiencesync init`."""
    with pytest.raises(
        ConfigError, match=r"no default user: .* Initialise it"
    ) as caught:
        resolve_actor(bare_database, None)
    assert caught.value.code == "no_default_user"


def test_resolve_actor_with_no_users_at_all_asks_to_run_init(
    bare_database: Database,
) -> None:
    """A name given while no user exists: the fix is `audiencesync init`."""
    with pytest.raises(NotFoundError, match=r"no users yet: initialising") as caught:
        resolve_actor(bare_database, "admin")
    assert caught.value.code == "no_users"


def test_admin_names_lists_active_administrators_only(team: Database) -> None:
    """Contributors, viewers and removed administrators are not listed."""
    admin = as_user(team, "admin")
    admin.add("bea", role=Role.ADMIN)
    admin.add("cid", role=Role.ADMIN)
    admin.remove("cid")
    with team.session() as session:
        assert admin_names(session) == ["admin", "bea"]


def _user_id(database: Database, name: str) -> int:
    with database.session() as session:
        found = session.scalar(select(User.id).where(User.name == name))
        assert found is not None
        return found


def _is_active_admin(database: Database, name: str) -> bool:
    user_id = _user_id(database, name)
    with database.session() as session:
        return is_active_admin(session, user_id)


def test_is_active_admin_follows_demotion(team: Database) -> None:
    """An administrator demoted to contributor is no longer an active admin."""
    admin = as_user(team, "admin")
    admin.add("bea", role=Role.ADMIN)
    assert _is_active_admin(team, "bea")
    admin.set_role("bea", Role.CONTRIBUTOR)
    assert not _is_active_admin(team, "bea")


def test_is_active_admin_follows_removal(team: Database) -> None:
    """A removed administrator is no longer an active admin."""
    admin = as_user(team, "admin")
    admin.add("bea", role=Role.ADMIN)
    admin.remove("bea")
    assert not _is_active_admin(team, "bea")


def test_is_active_admin_of_an_unknown_id_is_false(team: Database) -> None:
    """An id no user has is not an administrator."""
    with team.session() as session:
        assert not is_active_admin(session, 10_000)


@pytest.mark.parametrize(
    ("name", "expectation"),
    [
        ("  ana.b-c_d@example  ", nullcontext("ana.b-c_d@example")),
        ("Zoë", nullcontext("Zoë")),
        ("x" * 64, nullcontext("x" * 64)),
        ("   ", pytest.raises(ConfigError, match="1 to 64 characters; '' has 0")),
        ("x" * 65, pytest.raises(ConfigError, match="1 to 64 characters")),
        ("ana b", pytest.raises(ConfigError, match=r"letters, digits and \. _ - @")),
        ("ana/b", pytest.raises(ConfigError, match="not allowed")),
    ],
    ids=["trimmed", "accented", "64", "blank", "65", "space", "slash"],
)
def test_user_names(name: str, expectation: AbstractContextManager[object]) -> None:
    """Names are trimmed, 1-64 characters of letters, digits and ._-@."""
    with expectation as expected:
        assert normalize_user_name(name) == expected


# --- authentication --------------------------------------------------------------


def test_authenticate_password_returns_the_actor(database: Database) -> None:
    """The right name (any case) and password give the user's actor."""
    as_user(database, "admin").add("ana", role=Role.CONTRIBUTOR, password=PASSWORD)
    assert authenticate_password(database, "Ana", PASSWORD) == Actor(
        "ana", Role.CONTRIBUTOR
    )


@pytest.mark.parametrize(
    ("name", "password"),
    [("ana", PASSWORD + "!"), ("zoe", PASSWORD), ("vic", PASSWORD), ("bo", PASSWORD)],
    ids=["wrong password", "unknown user", "no password", "removed user"],
)
def test_authenticate_password_failures_share_one_message(
    database: Database, name: str, password: str
) -> None:
    """Every failed login says the same thing, never which part was wrong."""
    admin = as_user(database, "admin")
    admin.add("ana", role=Role.CONTRIBUTOR, password=PASSWORD)
    admin.add("vic", role=Role.VIEWER)
    admin.add("bo", role=Role.VIEWER, password=PASSWORD)
    admin.remove("bo")
    with pytest.raises(AccessDeniedError) as caught:
        authenticate_password(database, name, password)
    assert str(caught.value) == "Wrong user name or password."


def test_authenticate_password_replaces_an_outdated_hash(database: Database) -> None:
    """After a successful login, a hash with old parameters is redone."""
    as_user(database, "admin").add("ana", role=Role.CONTRIBUTOR)
    weak = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)
    with database.session() as session:
        user = session.scalars(select(User).where(User.name == "ana")).one()
        user.password_hash = weak
    authenticate_password(database, "ana", PASSWORD)
    with database.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.name == "ana"))
    assert stored not in {None, weak}
    assert authenticate_password(database, "ana", PASSWORD).name == "ana"


def test_authenticate_token_returns_the_actor_and_records_use(team: Database) -> None:
    """A valid token gives its owner's actor and sets ``last_used_at``."""
    service = as_user(team, "ana")
    token, _ = service.create_token("ana")
    assert authenticate_token(team, token) == Actor("ana", Role.CONTRIBUTOR)
    [info] = service.list_tokens("ana")
    assert info.last_used_at is not None


@pytest.mark.parametrize("case", ["unknown", "revoked", "user removed"])
def test_authenticate_token_refuses_dead_tokens(team: Database, case: str) -> None:
    """Unknown, revoked, or belonging to a removed user: one refusal message."""
    admin = as_user(team, "admin")
    token, info = admin.create_token("ana")
    if case == "unknown":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif case == "revoked":
        admin.revoke_token("ana", info.label)
    else:
        admin.remove("ana")
    with pytest.raises(AccessDeniedError) as caught:
        authenticate_token(team, token)
    assert str(caught.value) == (
        "This API token is not valid: it is unknown or revoked, or its user was"
        " removed."
    )
