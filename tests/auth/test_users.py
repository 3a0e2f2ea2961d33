"""The user service (audiencesync.auth.users): users, roles, removal and tokens."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from audiencesync.auth.roles import Actor, Role
from audiencesync.auth.users import UserService, ensure_first_admin, resolve_actor
from audiencesync.errors import (
    AccessDeniedError,
    ConfigError,
    ConflictError,
    NotFoundError,
)
from audiencesync.store import ApiToken, Database, SystemSetting, User
from audiencesync.store.models import utc_now
from tests.auth.conftest import as_user

PASSWORD = "correct horse battery"
TODAY = utc_now().date().isoformat()


# --- add -------------------------------------------------------------------------


def test_add_returns_the_new_user(admin: UserService) -> None:
    """A new user has the role given, its creator, and no password by default."""
    info = admin.add("  bea  ", role=Role.VIEWER)
    assert (info.name, info.role, info.created_by) == ("bea", Role.VIEWER, "admin")
    assert (info.is_active, info.has_password) == (True, False)


def test_add_with_a_password_stores_only_its_hash(
    admin: UserService, team: Database
) -> None:
    """The password column holds an Argon2id hash, never the password."""
    assert admin.add("bea", role=Role.VIEWER, password=PASSWORD).has_password
    with team.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.name == "bea"))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_add_refuses_a_short_password(admin: UserService) -> None:
    """A password under 12 characters is a ConfigError; no user is added."""
    with pytest.raises(ConfigError, match="too short"):
        admin.add("bea", role=Role.VIEWER, password="short")
    assert "bea" not in [info.name for info in admin.list_all()]


def test_add_refuses_a_name_taken_in_another_case(admin: UserService) -> None:
    """``ANA`` clashes with ``ana``; the message says how to change her role."""
    with pytest.raises(ConflictError) as caught:
        admin.add("ANA", role=Role.ADMIN)
    assert str(caught.value) == (
        "User 'ana' already exists (a contributor); an administrator can change"
        " their role."
    )
    assert caught.value.code == "name_taken"
    assert caught.value.details == {"kind": "user", "name": "ana"}


def test_add_refuses_the_name_of_a_removed_user(admin: UserService) -> None:
    """Removed users' names stay reserved."""
    admin.remove("vic")
    with pytest.raises(ConflictError) as caught:
        admin.add("Vic", role=Role.VIEWER)
    assert str(caught.value) == (
        f"The name 'vic' belonged to a user removed on {TODAY}; names of removed"
        " users stay reserved so the audit log keeps pointing at one person."
        " Choose another name."
    )


def test_add_refuses_an_invalid_name(admin: UserService) -> None:
    """Names with spaces are refused before anything is written."""
    with pytest.raises(ConfigError, match="not allowed"):
        admin.add("bea b", role=Role.VIEWER)


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        (
            "ana",
            "ana is a contributor and cannot manage users. Ask an administrator"
            " (admin) if you need this.",
        ),
        (
            "vic",
            "vic is a viewer and cannot manage users. Ask an administrator"
            " (admin) if you need this.",
        ),
    ],
    ids=["contributor", "viewer"],
)
def test_only_administrators_add_users(
    team: Database, actor: str, message: str
) -> None:
    """Contributors and viewers are refused, with whom to ask."""
    with pytest.raises(AccessDeniedError) as caught:
        as_user(team, actor).add("bea", role=Role.VIEWER)
    assert str(caught.value) == message


# --- list ------------------------------------------------------------------------


def test_list_all_shows_everyone_by_name(admin: UserService) -> None:
    """All users, removed ones included, sorted by name in any case."""
    admin.add("Bea", role=Role.ADMIN)
    admin.remove("vic")
    listed = [(i.name, i.role, i.is_active) for i in admin.list_all()]
    assert listed == [
        ("admin", Role.ADMIN, True),
        ("ana", Role.CONTRIBUTOR, True),
        ("Bea", Role.ADMIN, True),
        ("vic", Role.VIEWER, False),
    ]


@pytest.mark.parametrize("actor", ["ana", "vic"])
def test_only_administrators_list_users(team: Database, actor: str) -> None:
    """Listing users is user management too."""
    with pytest.raises(AccessDeniedError, match="cannot manage users"):
        as_user(team, actor).list_all()


# --- set-role ----------------------------------------------------------------------


def test_set_role_changes_the_role(admin: UserService, team: Database) -> None:
    """The new role holds from the next command on."""
    assert admin.set_role("VIC", Role.CONTRIBUTOR).role is Role.CONTRIBUTOR
    assert as_user(team, "vic").actor == Actor("vic", Role.CONTRIBUTOR)


def test_set_role_refuses_demoting_the_last_administrator(admin: UserService) -> None:
    """The only active administrator cannot stop being one."""
    with pytest.raises(ConflictError) as caught:
        admin.set_role("admin", Role.VIEWER)
    assert str(caught.value) == (
        "admin is the last active administrator and must stay one; make another"
        " user an administrator first."
    )
    assert caught.value.code == "last_admin"


def test_set_role_demotes_an_administrator_when_another_remains(
    admin: UserService,
) -> None:
    """With two administrators, either may be demoted (even oneself)."""
    admin.add("bea", role=Role.ADMIN)
    assert admin.set_role("admin", Role.CONTRIBUTOR).role is Role.CONTRIBUTOR


def test_set_role_of_an_unknown_user_lists_the_users(admin: UserService) -> None:
    """An unknown name is NotFoundError naming who exists."""
    with pytest.raises(NotFoundError, match=r"No user named 'zoe'\. Users: admin"):
        admin.set_role("zoe", Role.VIEWER)


def test_set_role_of_a_removed_user_is_refused(admin: UserService) -> None:
    """A removed user cannot be changed."""
    admin.remove("vic")
    with pytest.raises(ConflictError) as caught:
        admin.set_role("vic", Role.ADMIN)
    assert str(caught.value) == (
        f"User 'vic' was removed on {TODAY} and cannot be changed."
    )


@pytest.mark.parametrize("actor", ["ana", "vic"])
def test_only_administrators_set_roles(team: Database, actor: str) -> None:
    """Nobody promotes themselves."""
    with pytest.raises(AccessDeniedError, match="cannot manage users"):
        as_user(team, actor).set_role(actor, Role.ADMIN)


# --- remove ------------------------------------------------------------------------


def test_remove_marks_the_user_removed(admin: UserService) -> None:
    """The user stays in the list with a removal time."""
    info = admin.remove("ana")
    assert not info.is_active
    assert info.removed_at is not None


def test_remove_revokes_the_users_tokens(admin: UserService) -> None:
    """A removed user's tokens are revoked with them."""
    admin.create_token("ana")
    admin.remove("ana")
    assert [token.is_active for token in admin.list_tokens("ana")] == [False]


def test_remove_refuses_removing_yourself(admin: UserService) -> None:
    """Even with other administrators, nobody removes themselves."""
    admin.add("bea", role=Role.ADMIN)
    with pytest.raises(ConflictError) as caught:
        admin.remove("ADMIN")
    assert str(caught.value) == (
        "You cannot remove yourself (admin); another administrator must do it."
    )


def test_remove_refuses_removing_the_last_administrator(team: Database) -> None:
    """An acting admin that is no longer one in the database cannot remove the last."""
    stale = UserService(team, Actor("bea", Role.ADMIN))
    with pytest.raises(ConflictError) as caught:
        stale.remove("admin")
    assert str(caught.value) == (
        "admin is the last active administrator and cannot be removed; make"
        " another user an administrator first."
    )


def test_remove_twice_says_when_it_was_removed(admin: UserService) -> None:
    """Removing a removed user is a ConflictError with the date."""
    admin.remove("vic")
    with pytest.raises(ConflictError, match=f"removed on {TODAY}"):
        admin.remove("vic")


@pytest.mark.parametrize("actor", ["ana", "vic"])
def test_only_administrators_remove_users(team: Database, actor: str) -> None:
    """Contributors and viewers cannot remove anyone."""
    with pytest.raises(AccessDeniedError, match="cannot manage users"):
        as_user(team, actor).remove("admin")


# --- tokens ------------------------------------------------------------------------


def test_create_token_returns_it_once_and_stores_its_digest(
    admin: UserService, team: Database
) -> None:
    """The row holds the SHA-256 digest and last 4 characters, not the token."""
    token, info = admin.create_token("ana", label="ci")
    with team.session() as session:
        row = session.scalars(select(ApiToken)).one()
        stored = [row.label, row.digest, row.last4]
    assert stored == ["ci", hashlib.sha256(token.encode()).hexdigest(), token[-4:]]
    assert all(token not in value for value in stored)
    assert (info.user, info.label, info.last4, info.is_active) == (
        "ana",
        "ci",
        token[-4:],
        True,
    )


def test_tokens_without_label_are_numbered(admin: UserService) -> None:
    """Unlabelled tokens are ``token-1``, ``token-2``..."""
    labels = [admin.create_token("ana")[1].label for _ in range(2)]
    assert labels == ["token-1", "token-2"]


def test_a_label_in_use_by_an_active_token_is_refused(admin: UserService) -> None:
    """Two active tokens of one user cannot share a label."""
    admin.create_token("ana", label="ci")
    with pytest.raises(ConflictError) as caught:
        admin.create_token("ana", label=" ci ")
    assert str(caught.value) == (
        "ana already has an active token labelled 'ci'; choose another label,"
        " or revoke that token first."
    )


def test_a_label_of_a_revoked_token_can_be_reused(admin: UserService) -> None:
    """Once revoked, a token's label is free again."""
    admin.create_token("ana", label="ci")
    admin.revoke_token("ana", "ci")
    assert admin.create_token("ana", label="ci")[1].label == "ci"


@pytest.mark.parametrize(
    ("label", "message"),
    [("", "1 to 64 printable"), ("a\tb", "1 to 64 printable"), (None, "look like")],
    ids=["empty", "tab", "a whole token"],
)
def test_malformed_labels_are_refused(
    admin: UserService, label: str | None, message: str
) -> None:
    """Labels are shown in lists, so they are short, printable and not tokens."""
    chosen = label if label is not None else "as_" + "x" * 43
    with pytest.raises(ConfigError, match=message):
        admin.create_token("ana", label=chosen)


@pytest.mark.parametrize("actor", ["ana", "vic"])
def test_every_user_creates_their_own_tokens(team: Database, actor: str) -> None:
    """Contributors and viewers may create tokens for themselves."""
    token, info = as_user(team, actor).create_token(actor)
    assert token.startswith("as_")
    assert info.user == actor


def test_non_administrators_cannot_create_tokens_for_others(team: Database) -> None:
    """A viewer asking a token for ana is refused."""
    with pytest.raises(AccessDeniedError, match="vic is a viewer and cannot manage"):
        as_user(team, "vic").create_token("ana")


def test_a_removed_user_gets_no_token(admin: UserService) -> None:
    """Tokens are not created for removed users."""
    admin.remove("vic")
    with pytest.raises(ConflictError, match="was removed on"):
        admin.create_token("vic")


def test_list_tokens_never_shows_a_token(admin: UserService) -> None:
    """Listed tokens have label and last 4 characters, oldest first."""
    first, _ = admin.create_token("ana", label="one")
    second, _ = admin.create_token("ana", label="two")
    listed = admin.list_tokens("ana")
    assert [(t.label, t.last4) for t in listed] == [
        ("one", first[-4:]),
        ("two", second[-4:]),
    ]
    assert all(token not in repr(listed) for token in (first, second))


def test_list_tokens_of_others_is_for_administrators(team: Database) -> None:
    """A contributor may list their own tokens, not another user's."""
    assert as_user(team, "ana").list_tokens("ana") == []
    with pytest.raises(AccessDeniedError):
        as_user(team, "ana").list_tokens("vic")


def test_list_tokens_of_an_unknown_user(admin: UserService) -> None:
    """An unknown user name is NotFoundError."""
    with pytest.raises(NotFoundError, match="No user named 'zoe'"):
        admin.list_tokens("zoe")


def test_revoke_token_by_label(admin: UserService) -> None:
    """Revoking by label marks just that token revoked."""
    admin.create_token("ana", label="one")
    admin.create_token("ana", label="two")
    assert admin.revoke_token("ana", "two").revoked_at is not None
    assert [t.is_active for t in admin.list_tokens("ana")] == [True, False]


def test_revoke_token_by_last4(admin: UserService) -> None:
    """The last 4 characters name a token too."""
    token, _ = admin.create_token("ana", label="one")
    assert admin.revoke_token("ana", token[-4:]).label == "one"


def test_users_revoke_their_own_tokens(team: Database) -> None:
    """A viewer revokes their own token."""
    viewer = as_user(team, "vic")
    viewer.create_token("vic", label="mine")
    assert not viewer.revoke_token("vic", "mine").is_active


def test_revoke_an_unknown_token_lists_the_active_ones(admin: UserService) -> None:
    """No match: the message lists the active tokens by label and last 4."""
    token, _ = admin.create_token("ana", label="ci")
    with pytest.raises(NotFoundError) as caught:
        admin.revoke_token("ana", "nope")
    assert str(caught.value) == (
        "ana has no active token labelled or ending in 'nope'."
        f" Active tokens: ci (…{token[-4:]})."
    )


def test_revoke_by_whole_token_is_refused_without_echoing_it(
    admin: UserService,
) -> None:
    """A whole token given by mistake never appears in the message."""
    token, _ = admin.create_token("ana")
    with pytest.raises(ConfigError) as caught:
        admin.revoke_token("ana", token)
    assert token not in str(caught.value)
    assert "label or its last 4 characters" in str(caught.value)


def test_revoke_by_ambiguous_last4_asks_for_the_label(
    admin: UserService, team: Database
) -> None:
    """Two active tokens ending alike: give the label instead."""
    admin.create_token("ana", label="one")
    admin.create_token("ana", label="two")
    with team.session() as session:
        for row in session.scalars(select(ApiToken)):
            row.last4 = "abcd"
    with pytest.raises(ConflictError, match="2 active tokens of ana end in 'abcd'"):
        admin.revoke_token("ana", "abcd")


# --- audit log ---------------------------------------------------------------------


def test_read_audit_is_newest_first(admin: UserService) -> None:
    """The latest change comes first."""
    admin.set_role("vic", Role.CONTRIBUTOR)
    assert [e.action for e in admin.read_audit(limit=2)] == [
        "user.set_role",
        "user.add",
    ]


@pytest.mark.parametrize("actor", ["ana", "vic"])
def test_only_administrators_read_the_audit_log(team: Database, actor: str) -> None:
    """Contributors and viewers are refused, with whom to ask."""
    with pytest.raises(AccessDeniedError, match="cannot read the audit log"):
        as_user(team, actor).read_audit()


# --- init's part ---------------------------------------------------------------------


def test_ensure_first_admin_leaves_existing_users_alone(team: Database) -> None:
    """With users present, nobody is created and the default user is reported."""
    with team.session() as session:
        assert ensure_first_admin(session, name="bea") == ("admin", False)
    assert [info.name for info in as_user(team, "admin").list_all()] == [
        "admin",
        "ana",
        "vic",
    ]


def test_ensure_first_admin_repairs_a_missing_default_user(team: Database) -> None:
    """Users but no default user: the oldest active administrator becomes it."""
    as_user(team, "admin").add("bea", role=Role.ADMIN)
    with team.session() as session:
        session.delete(session.get(SystemSetting, "default_user"))
    with team.session() as session:
        assert ensure_first_admin(session, name="zoe") == ("admin", False)
    assert resolve_actor(team, None) == Actor("admin", Role.ADMIN)
    [event] = as_user(team, "admin").read_audit(limit=1)
    assert (event.actor, event.action, event.target_type, event.target) == (
        "init",
        "setting.default_user",
        "setting",
        "admin",
    )


def test_ensure_first_admin_without_any_active_admin_is_refused(
    team: Database,
) -> None:
    """No default user and no administrator left: init cannot pick one."""
    with team.session() as session:
        session.delete(session.get(SystemSetting, "default_user"))
        for user in session.scalars(select(User)):
            user.role = Role.VIEWER.value
    with team.session() as session, pytest.raises(ConfigError, match="no active"):
        ensure_first_admin(session, name="admin")


def test_the_service_authenticates_passwords_and_tokens(admin: UserService) -> None:
    """The service's login methods give the same actors as the directory's."""
    admin.add("bea", role=Role.VIEWER, password=PASSWORD)
    token, _ = admin.create_token("bea")
    bea = Actor("bea", Role.VIEWER)
    assert admin.authenticate_password("bea", PASSWORD) == bea
    assert admin.authenticate_token(token) == bea


def test_numbered_labels_skip_those_in_use(admin: UserService) -> None:
    """A label ``token-2`` chosen by hand makes the next unlabelled one ``token-3``."""
    admin.create_token("ana", label="token-2")
    assert admin.create_token("ana")[1].label == "token-3"
