"""The connection service: consent, key checks, roles, export user, removal, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import func, select, update

from audiencesync.auth.audit import list_events
from audiencesync.auth.roles import Actor, ConnectionScope, Role
from audiencesync.connections import (
    CONSENT_VERSION,
    ConnectionInfo,
    ConnectionService,
    ConnectionState,
    ConsentRequiredError,
    KeyRejectedError,
)
from audiencesync.core.secrets import KeyRing, SecretUnreadableError
from audiencesync.errors import (
    AccessDeniedError,
    ConfigError,
    ConflictError,
    FatalError,
    NotFoundError,
    StaleEditError,
)
from audiencesync.iterable import Region
from audiencesync.store import Database
from audiencesync.store.accounts import AuditEvent, User
from audiencesync.store.destinations import Connection, Export
from audiencesync.store.models import utc_now

from .conftest import OTHER_KEY, US_KEY, FakeVerifier, MakeService, assert_clean


def add(
    service: ConnectionService, name: str = "Iterable US", /, **options: object
) -> ConnectionInfo:
    """Add a connection with consent and the US canary key, unless told otherwise."""
    given: dict[str, object] = {"api_key": US_KEY, "agreed": True, **options}
    return service.add(name, **given)  # type: ignore[arg-type]


def count(database: Database, model: type[object]) -> int:
    """Rows of ``model``'s table."""
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def events(database: Database) -> list[str]:
    """The audit actions recorded so far, oldest first."""
    with database.session() as session:
        return [entry.action for entry in reversed(list_events(session))]


def add_export(database: Database, connection: str, name: str) -> None:
    """An export row on ``connection`` (made directly, as the exports service would)."""
    with database.session() as session:
        row = session.scalars(select(Connection).where(Connection.name == connection))
        session.add(
            Export(
                name=name,
                name_key=name.casefold(),
                connection_id=row.one().id,
                email_field="email",
            )
        )


def change_user(database: Database, name: str, **values: object) -> None:
    """Set columns of user ``name`` (a demotion or a removal)."""
    with database.session() as session:
        session.execute(update(User).where(User.name == name).values(**values))


# --- consent -------------------------------------------------------------------


def test_add_without_agreement_saves_nothing(
    admin: ConnectionService, database: Database, verifier: FakeVerifier
) -> None:
    """Without agreement the add is refused before the key is even checked."""
    with pytest.raises(ConsentRequiredError, match="is agreed to") as caught:
        add(admin, agreed=False)
    assert (caught.value.code, caught.value.field) == ("consent_required", "i_agree")
    assert (count(database, Connection), events(database), verifier.calls) == (
        0,
        [],
        [],
    )
    assert_clean(str(caught.value))


def test_consent_records_who_when_and_version(admin: ConnectionService) -> None:
    """The consent names the administrator, the time and the statement version."""
    before = utc_now()
    info = add(admin)
    assert info.settings is not None
    consent = info.settings.consent
    assert (consent.by, consent.version) == ("ana", CONSENT_VERSION)
    assert before <= consent.at <= utc_now()


# --- adding ----------------------------------------------------------------------


def test_add_makes_the_admin_the_export_user(admin: ConnectionService) -> None:
    """The saving administrator becomes the export user; the status is ok."""
    info = add(admin)
    assert info.settings is not None
    assert info.settings.export_user == "ana"
    assert info.settings.status.state is ConnectionState.OK


def test_add_shows_the_key_only_by_its_last_four(admin: ConnectionService) -> None:
    """Settings hold ``…`` and the last four characters, never more of the key."""
    info = add(admin)
    assert info.settings is not None
    assert info.settings.key_hint == f"…{US_KEY[-4:]}"
    assert_clean(repr(info))


def test_add_defaults_to_the_us_region(
    admin: ConnectionService, verifier: FakeVerifier
) -> None:
    """Without --region or --base-url the key is checked in the US data center."""
    info = add(admin)
    assert info.settings is not None
    assert (info.settings.region, info.settings.base_url) == ("us", None)
    assert verifier.calls == [(Region.US, None)]


def test_add_with_a_base_url_stores_no_region(
    admin: ConnectionService, verifier: FakeVerifier
) -> None:
    """An explicit base URL replaces the region (trailing slash dropped)."""
    info = add(admin, base_url="http://127.0.0.1:9009/eu/")
    assert info.settings is not None
    assert (info.settings.region, info.settings.base_url) == (
        None,
        "http://127.0.0.1:9009/eu",
    )
    assert verifier.calls == [(None, "http://127.0.0.1:9009/eu")]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"region": "eu", "base_url": "http://x.test"}, "not both"),
        ({"region": "asia"}, "use us or eu"),
        ({"base_url": "ftp://x.test"}, "absolute http"),
        ({"base_url": "http://user:pw@x.test"}, "credentials"),
        ({"api_key": "short"}, "not an Iterable API key"),
    ],
    ids=["region-and-url", "unknown-region", "not-http", "credentials", "short-key"],
)
def test_add_refuses_bad_options(
    admin: ConnectionService,
    database: Database,
    options: dict[str, object],
    match: str,
) -> None:
    """Wrong flags are refused with the fix, and nothing is saved."""
    with pytest.raises((ConfigError, KeyRejectedError), match=match):
        add(admin, **options)
    assert count(database, Connection) == 0


def test_a_refused_key_saves_nothing(
    admin: ConnectionService, database: Database, verifier: FakeVerifier
) -> None:
    """When Iterable refuses the key, no connection and no audit event are saved."""
    verifier.refused[OTHER_KEY] = "Iterable refused the API key ending …2Df"
    with pytest.raises(KeyRejectedError, match="refused"):
        add(admin, api_key=OTHER_KEY)
    assert (count(database, Connection), events(database)) == (0, [])


def test_names_are_unique_regardless_of_case(admin: ConnectionService) -> None:
    """A second "iterable us" clashes with "Iterable US"."""
    add(admin)
    with pytest.raises(ConflictError, match="'Iterable US' already exists"):
        add(admin, "  iterable us ")


@pytest.mark.parametrize("name", ["cy", "vi"])
def test_only_administrators_add(
    make_service: MakeService, database: Database, name: str
) -> None:
    """Contributors and viewers are refused, and nothing is recorded."""
    with pytest.raises(AccessDeniedError, match="Ask an administrator \\(ana, bo\\)"):
        add(make_service(name))
    assert (count(database, Connection), events(database)) == (0, [])


# --- what each role sees -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usable"),
    [
        ("cy", {"Admins only": False, "Shared": True}),
        ("vi", {"Admins only": False, "Shared": False}),
    ],
    ids=["contributor", "viewer"],
)
def test_non_admins_see_name_and_type_only(
    admin: ConnectionService,
    make_service: MakeService,
    name: str,
    usable: dict[str, bool],
) -> None:
    """Contributors and viewers get no settings and no key hint, only name and type."""
    add(admin, "Admins only")
    add(admin, "Shared", api_key=OTHER_KEY, shared=True)
    infos = make_service(name).list_all()
    assert [(i.name, i.kind, i.settings) for i in infos] == [
        ("Admins only", "iterable", None),
        ("Shared", "iterable", None),
    ]
    assert {i.name: i.usable for i in infos} == usable
    for info in infos:
        assert US_KEY[-4:] not in repr(info)
        assert OTHER_KEY[-4:] not in repr(info)


def test_get_finds_a_connection_in_any_case(admin: ConnectionService) -> None:
    """``get`` ignores letter case and surrounding blanks."""
    add(admin)
    assert admin.get(" ITERABLE us ").name == "Iterable US"


def test_get_names_the_known_connections_when_missing(admin: ConnectionService) -> None:
    """An unknown name lists the connections there are."""
    add(admin)
    with pytest.raises(NotFoundError, match="Connections: 'Iterable US'"):
        admin.get("Nope")


# --- sharing ---------------------------------------------------------------------


def test_sharing_lets_contributors_use_it(
    admin: ConnectionService, make_service: MakeService
) -> None:
    """After sharing, a contributor may use the connection."""
    add(admin)
    admin.set_sharing("Iterable US", shared=True)
    assert make_service("cy").get("Iterable US").usable


def test_unsharing_keeps_existing_exports(
    admin: ConnectionService, database: Database
) -> None:
    """Exports stay attached when the connection goes back to admins only."""
    add(admin, shared=True)
    add_export(database, "Iterable US", "Weekly")
    admin.set_sharing("Iterable US", shared=False)
    with database.session() as session:
        assert session.scalars(select(Export.connection_id)).one() is not None


def test_sharing_unchanged_records_nothing(
    admin: ConnectionService, database: Database
) -> None:
    """Setting the sharing it already has is not a change."""
    add(admin)
    admin.set_sharing("Iterable US", shared=False)
    assert events(database) == ["connection.add"]


# --- export user -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"role": "contributor"}, "ana is no longer an administrator"),
        ({"removed_at": utc_now()}, "ana was removed"),
    ],
    ids=["demoted", "removed"],
)
def test_losing_the_export_user_is_reported(
    admin: ConnectionService,
    make_service: MakeService,
    database: Database,
    change: dict[str, object],
    why: str,
) -> None:
    """A demoted or removed export user makes the status "no longer authorised"."""
    add(admin)
    change_user(database, "ana", **change)
    status = make_service("bo").status("Iterable US")
    assert status.state is ConnectionState.UNAUTHORISED
    assert status.message.startswith("export user no longer authorised")
    assert why in status.message
    assert "An administrator must authorise the connection" in status.message


def test_exports_refuse_the_key_without_an_authorised_export_user(
    admin: ConnectionService, make_service: MakeService, database: Database
) -> None:
    """``api_key_for_export`` fails clearly once the export user is demoted."""
    add(admin)
    change_user(database, "ana", role="viewer")
    with pytest.raises(FatalError, match="export user no longer authorised") as caught:
        make_service("bo").api_key_for_export("Iterable US")
    assert_clean(str(caught.value))


def test_authorize_restores_the_connection(
    admin: ConnectionService, make_service: MakeService, database: Database
) -> None:
    """Another administrator authorises, and exports may get the key again."""
    add(admin)
    change_user(database, "ana", role="contributor")
    bo = make_service("bo")
    info = bo.authorize("Iterable US")
    assert info.settings is not None
    assert (info.settings.export_user, info.settings.status.state) == (
        "bo",
        ConnectionState.OK,
    )
    assert bo.api_key_for_export("Iterable US").api_key.reveal() == US_KEY


def test_credentials_carry_the_target_and_mask_the_key(
    admin: ConnectionService,
) -> None:
    """The sync engine gets the region and base URL; the repr hides the key."""
    add(admin, region="eu")
    credentials = admin.api_key_for_export("Iterable US")
    assert (credentials.region, credentials.base_url) == (Region.EU, None)
    assert_clean(repr(credentials))


def test_contributors_get_keys_of_shared_connections_only(
    admin: ConnectionService, make_service: MakeService
) -> None:
    """A contributor's export may use a shared connection, not an admin-only one."""
    add(admin, "Admins only")
    add(admin, "Shared", api_key=OTHER_KEY, shared=True)
    contributor = make_service("cy")
    assert contributor.api_key_for_export("Shared").api_key.reveal() == OTHER_KEY
    with pytest.raises(AccessDeniedError, match="for administrators only"):
        contributor.api_key_for_export("Admins only")


# --- keys ------------------------------------------------------------------------


def test_set_key_replaces_the_key_after_checking_it(
    admin: ConnectionService, verifier: FakeVerifier
) -> None:
    """The new key is verified against the connection's region, then stored."""
    add(admin, region="eu")
    info = admin.set_key("Iterable US", api_key=OTHER_KEY)
    assert info.settings is not None
    assert info.settings.key_hint == f"…{OTHER_KEY[-4:]}"
    assert verifier.calls[-1] == (Region.EU, None)
    assert admin.api_key_for_export("Iterable US").api_key.reveal() == OTHER_KEY


def test_set_key_keeps_the_old_key_when_the_new_one_is_refused(
    admin: ConnectionService, verifier: FakeVerifier
) -> None:
    """A refused replacement changes nothing."""
    add(admin)
    verifier.refused[OTHER_KEY] = "refused"
    with pytest.raises(KeyRejectedError):
        admin.set_key("Iterable US", api_key=OTHER_KEY)
    assert admin.api_key_for_export("Iterable US").api_key.reveal() == US_KEY


URL = "http://127.0.0.1:9010"


def test_set_address_checks_the_key_there_then_stores_the_url(
    admin: ConnectionService, verifier: FakeVerifier
) -> None:
    """The stored key is verified at the new base URL, which replaces the region."""
    add(admin)
    info = admin.set_address("Iterable US", base_url=URL + "/")
    assert info.settings is not None
    assert (info.settings.region, info.settings.base_url) == (None, URL)
    assert verifier.calls[-1] == (None, URL)
    assert admin.api_key_for_export("Iterable US").base_url == URL


def test_set_address_keeps_the_old_one_when_the_key_is_refused_there(
    admin: ConnectionService, verifier: FakeVerifier
) -> None:
    """A key refused at the new address changes nothing."""
    add(admin, region="eu")
    verifier.refused[US_KEY] = "refused"
    with pytest.raises(KeyRejectedError):
        admin.set_address("Iterable US", base_url=URL)
    credentials = admin.api_key_for_export("Iterable US")
    assert (credentials.region, credentials.base_url) == (Region.EU, None)


def test_set_address_to_the_same_url_records_nothing(
    admin: ConnectionService, database: Database
) -> None:
    """An unchanged address writes no audit event."""
    add(admin, base_url=URL)
    admin.set_address("Iterable US", base_url=URL)
    assert events(database) == ["connection.add"]


def test_a_tampered_key_breaks_only_its_connection(
    admin: ConnectionService, database: Database
) -> None:
    """A damaged ciphertext marks that connection broken; the others stay ok."""
    add(admin, "Damaged")
    add(admin, "Fine", api_key=OTHER_KEY)
    with database.session() as session:
        row = session.scalars(select(Connection).where(Connection.name == "Damaged"))
        damaged = row.one()
        damaged.api_key_token = damaged.api_key_token[:-6] + "AAAAAA"
    states = {
        info.name: info.settings.status.state
        for info in admin.list_all()
        if info.settings
    }
    assert states == {"Damaged": ConnectionState.BROKEN, "Fine": ConnectionState.OK}
    assert "must enter it again" in admin.status("Damaged").message


def test_exports_on_a_broken_connection_fail_clearly(
    admin: ConnectionService, database: Database
) -> None:
    """Asking for a damaged key names the connection and the fix, not the token."""
    add(admin)
    with database.session() as session:
        row = session.scalars(select(Connection)).one()
        row.api_key_token = "gAAAA" + row.api_key_token[5:-4] + "AAAA"
        token = row.api_key_token
    with pytest.raises(SecretUnreadableError, match="must enter it again") as caught:
        admin.api_key_for_export("Iterable US")
    assert caught.value.code == "api_key_unreadable"
    assert caught.value.details == {"connection": "Iterable US"}
    assert token[10:30] not in str(caught.value)
    assert_clean(str(caught.value))


# --- removal ---------------------------------------------------------------------


def test_remove_is_refused_while_exports_use_it(
    admin: ConnectionService, database: Database
) -> None:
    """The refusal lists the exports and how to detach them; nothing changes."""
    add(admin)
    add_export(database, "Iterable US", "Weekly")
    add_export(database, "Iterable US", "Daily")
    with pytest.raises(ConflictError, match="2 export\\(s\\): Daily, Weekly") as caught:
        admin.remove("Iterable US")
    assert "Detach or remove them first." in str(caught.value)
    assert caught.value.code == "connection_in_use"
    assert caught.value.details == {
        "connection": "Iterable US",
        "exports": ["Daily", "Weekly"],
    }
    assert (count(database, Connection), events(database)) == (1, ["connection.add"])


def test_remove_deletes_an_unused_connection(
    admin: ConnectionService, database: Database
) -> None:
    """Without exports the connection goes, with one audit event."""
    add(admin)
    admin.remove("iterable us")
    assert count(database, Connection) == 0
    assert events(database) == ["connection.add", "connection.remove"]


# --- audit -----------------------------------------------------------------------

CHANGES: dict[str, Callable[[ConnectionService], object]] = {
    "connection.set_sharing": lambda s: s.set_sharing("Iterable US", shared=True),
    "connection.set_key": lambda s: s.set_key("Iterable US", api_key=OTHER_KEY),
    "connection.set_address": lambda s: s.set_address("Iterable US", base_url=URL),
    "connection.authorize": lambda s: s.authorize("Iterable US"),
    "connection.remove": lambda s: s.remove("Iterable US"),
    "connection.rotate_keys": lambda s: s.rotate_keys(),
}


@pytest.mark.parametrize("action", sorted(CHANGES))
def test_every_change_writes_one_event(
    admin: ConnectionService, make_service: MakeService, database: Database, action: str
) -> None:
    """Each allowed change (made by bo) records exactly one event, without key data."""
    add(admin)
    CHANGES[action](make_service("bo"))
    with database.session() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        recorded = [(row.actor, row.action) for row in rows]
        details = [repr(row.details) for row in rows]
    assert recorded == [("ana", "connection.add"), ("bo", action)]
    for text in details:
        assert_clean(text)
        assert US_KEY[-4:] not in text
        assert OTHER_KEY[-4:] not in text


@pytest.mark.parametrize("action", sorted(CHANGES))
@pytest.mark.parametrize("name", ["cy", "vi"])
def test_refused_changes_write_no_event(
    admin: ConnectionService,
    make_service: MakeService,
    database: Database,
    action: str,
    name: str,
) -> None:
    """Contributors and viewers are refused every change, and nothing is recorded."""
    add(admin, shared=True)
    with pytest.raises(AccessDeniedError):
        CHANGES[action](make_service(name))
    assert events(database) == ["connection.add"]


def test_add_event_holds_target_and_sharing_only(
    admin: ConnectionService, database: Database
) -> None:
    """The add event says where and who may use it; nothing about the key."""
    add(admin, base_url="http://127.0.0.1:9009", shared=True)
    with database.session() as session:
        details = session.scalars(select(AuditEvent.details)).one()
    assert details == {"base_url_host": "127.0.0.1", "shared": True}


def test_now_is_injectable(
    database: Database, keyring: KeyRing, verifier: FakeVerifier
) -> None:
    """The service stamps consent with its injected clock."""
    moment = datetime(2025, 1, 2, 3, 4, tzinfo=utc_now().tzinfo)
    service = ConnectionService(
        database,
        Actor("ana", Role.ADMIN),
        keyring=keyring,
        verifier=verifier,
        now=lambda: moment,
    )
    info = add(service)
    assert info.settings is not None
    assert info.settings.consent.at == moment


def test_scope_gives_name_and_sharing(
    admin: ConnectionService, make_service: MakeService
) -> None:
    """The exports service gets the scope its permission checks need."""
    add(admin, shared=True)
    assert make_service("vi").scope("iterable us") == ConnectionScope(
        "Iterable US", shared=True
    )


@pytest.mark.parametrize(
    ("name", "match"),
    [("   ", "needs a name"), ("x" * 256, "limit is 255"), ("a\tb", "control")],
    ids=["blank", "too-long", "tab"],
)
def test_bad_names_are_refused(admin: ConnectionService, name: str, match: str) -> None:
    """Blank, overlong and control-character names are refused with the reason."""
    with pytest.raises(ConfigError, match=match):
        add(admin, name)


def test_a_connection_without_export_user_is_not_authorised(
    admin: ConnectionService, database: Database
) -> None:
    """An export user that is gone altogether (NULL) needs an authorisation too."""
    add(admin)
    with database.session() as session:
        session.execute(update(Connection).values(export_user_id=None))
    info = admin.get("Iterable US")
    assert info.settings is not None
    assert info.settings.export_user is None
    assert "the connection has no export user" in info.settings.status.message


# --- optimistic edits ---------------------------------------------------------


def test_every_change_moves_the_revision(admin: ConnectionService) -> None:
    """Share, unshare and a new key each raise it by one."""
    assert _revision(admin.add("Iterable US", api_key=US_KEY, agreed=True)) == 1
    assert _revision(admin.set_sharing("Iterable US", shared=True)) == 2
    assert _revision(admin.set_sharing("Iterable US", shared=False)) == 3
    assert _revision(admin.set_key("Iterable US", api_key=OTHER_KEY)) == 4


def test_a_stale_expected_revision_is_refused(admin: ConnectionService) -> None:
    """An edit naming an old revision raises StaleEditError and changes nothing."""
    admin.add("Iterable US", api_key=US_KEY, agreed=True)
    admin.set_sharing("Iterable US", shared=True)
    with pytest.raises(StaleEditError):
        admin.set_sharing("Iterable US", shared=False, expected_revision=1)
    with pytest.raises(StaleEditError):
        admin.remove("Iterable US", expected_revision=1)
    assert _revision(admin.get("Iterable US")) == 2


def _revision(info: ConnectionInfo) -> int:
    assert info.settings is not None
    return info.settings.revision
