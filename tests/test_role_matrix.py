"""The role matrix on the command line: every command, as every role, on both kinds
of connection.

A data folder is built once (an administrator, a contributor ``carla``, a viewer
``victor``, sample profiles, segments, an admins-only and a shared connection to
the emulator, one export on each); every cell runs one command on a fresh copy of
it and checks the outcome: allowed (exit 0) or refused (exit 3 with the reason),
and the audit log: exactly one new event for an allowed change, none otherwise.
The whole matrix runs twice: with the control plane in SQLite (each cell copies
the folder) and in PostgreSQL (each cell gets ``CREATE DATABASE ... TEMPLATE``).
``init``, ``emulator`` and ``walkthrough`` act as nobody and are not in the matrix;
neither is ``serve``, whose scheduler always acts as the default user.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from audiencesync.emulator import (
    ApiKeySpec,
    Emulator,
    EmulatorConfig,
    serve_in_thread,
)
from tests.canary import CANARY_API_KEY, CANARY_PIECES

ADMIN, CONTRIBUTOR, VIEWER = "admin", "carla", "victor"
ROLES = {ADMIN: "an administrator", CONTRIBUTOR: "a contributor", VIEWER: "a viewer"}
CONNECTIONS = {"admin-only": "Admins only", "shared": "Shared"}
EXPORTS = {"admin-only": "On admins only", "shared": "On shared"}
KEY_VARIABLE = "ROLE_MATRIX_ITERABLE_KEY"


@dataclass(frozen=True)
class Row:
    """One command: its arguments, whether it changes anything, who may run it."""

    name: str
    args: tuple[str, ...]
    change: bool
    allowed: frozenset[str]
    refusal: str  # what the refusal says after "<user> is <role> and cannot "
    scoped: bool = False  # on a connection: contributors only where it is shared
    no_op_on: str | None = None  # the connection kind where it changes nothing
    blocked: str = ""  # when allowed but refused by the data (exit 2): the reason
    gated: bool = False  # reads nothing else, but scoped like a change


EDITORS = frozenset({ADMIN, CONTRIBUTOR})
EVERYONE = frozenset(ROLES)
ADMINS = frozenset({ADMIN})
SEGMENTS = "create, edit or delete segments"
PROFILES = "import or generate profiles"
USERS = "manage users"
CONNECTION_CHANGES = "add, change or remove connections"
EXPORT_CHANGES = "create, edit or remove exports"
SCHEDULE = "change the refresh schedule"

ROWS = [
    Row("profiles import", ("profiles", "import", "{tickets}", "--table", "tickets",
                            "--key", "customer_id"), True, EDITORS, PROFILES),
    Row("profiles generate", ("profiles", "generate", "--count", "50"), True,
        EDITORS, PROFILES),
    Row("profiles schema", ("profiles", "schema"), False, EVERYONE, ""),
    Row("segments create", ("segments", "create", "Spain", "--where",
                            "country = 'ES'"), True, EDITORS, SEGMENTS),
    Row("segments edit", ("segments", "edit", "FR", "--description", "French"), True,
        EDITORS, SEGMENTS),
    Row("segments list", ("segments", "list"), False, EVERYONE, ""),
    Row("segments show", ("segments", "show", "FR"), False, EVERYONE, ""),
    Row("segments evaluate", ("segments", "evaluate", "FR"), False, EVERYONE, ""),
    Row("segments preview", ("segments", "preview", "FR"), False, EDITORS,
        "see profile data (segment previews, run rejects)"),
    Row("segments delete", ("segments", "delete", "Spare"), True, EDITORS, SEGMENTS),
    Row("users add", ("users", "add", "nina", "--role", "viewer"), True, ADMINS, USERS),
    Row("users list", ("users", "list"), False, ADMINS, USERS),
    Row("users set-role", ("users", "set-role", VIEWER, "--role", "contributor"),
        True, ADMINS, USERS),
    Row("users set-email", ("users", "set-email", VIEWER, "victor@example.org"), True,
        ADMINS, USERS),
    Row("users remove", ("users", "remove", VIEWER), True, ADMINS, USERS),
    Row("users token", ("users", "token", CONTRIBUTOR), True, EDITORS, USERS),
    Row("users tokens", ("users", "tokens", CONTRIBUTOR), False, EDITORS, USERS),
    Row("users revoke-token", ("users", "revoke-token", CONTRIBUTOR, "{last4}"), True,
        EDITORS, USERS),
    Row("audit", ("audit",), False, ADMINS, "read the audit log"),
    Row("connections add", ("connections", "add", "--name", "Another",
                            "--api-key-env", KEY_VARIABLE, "--base-url", "{url}",
                            "--i-agree"), True, ADMINS, CONNECTION_CHANGES),
    Row("connections list", ("connections", "list"), False, EVERYONE, ""),
    Row("connections show", ("connections", "show", "{connection}"), False, EVERYONE,
        "", scoped=True),
    Row("connections share", ("connections", "share", "{connection}"), True, ADMINS,
        CONNECTION_CHANGES, scoped=True, no_op_on="shared"),
    Row("connections unshare", ("connections", "unshare", "{connection}"), True,
        ADMINS, CONNECTION_CHANGES, scoped=True, no_op_on="admin-only"),
    Row("connections set-key", ("connections", "set-key", "{connection}",
                                "--api-key-env", KEY_VARIABLE), True, ADMINS,
        CONNECTION_CHANGES, scoped=True),
    Row("connections authorize", ("connections", "authorize", "{connection}"), True,
        ADMINS, CONNECTION_CHANGES, scoped=True),
    Row("connections remove", ("connections", "remove", "{connection}"), True,
        ADMINS, CONNECTION_CHANGES, scoped=True, blocked="Detach or remove them first"),
    Row("connections rotate-keys", ("connections", "rotate-keys"), True, ADMINS,
        CONNECTION_CHANGES),
    Row("exports add", ("exports", "add", "--name", "Weekly", "--connection",
                        "{connection}", "--email-field", "email", "--segment", "FR"),
        True, EDITORS, EXPORT_CHANGES, scoped=True),
    Row("exports edit", ("exports", "edit", "{export}", "--schedule", "manual"),
        True, EDITORS, EXPORT_CHANGES, scoped=True),
    Row("exports list", ("exports", "list"), False, EVERYONE, ""),
    Row("exports run", ("exports", "run", "{export}"), False, EDITORS, "run exports",
        scoped=True, gated=True),
    Row("schedule set", ("schedule", "set", "0 */4 * * *"), True, ADMINS, SCHEDULE),
    Row("schedule show", ("schedule", "show"), False, EVERYONE, ""),
    Row("schedule clear", ("schedule", "clear"), True, ADMINS, SCHEDULE),
    # A refresh runs every export that follows it, so it is gated like `exports
    # run`; a contributor's refresh skips (not fails) the admins-only export.
    Row("refresh", ("refresh",), False, EDITORS, "run exports"),
    Row("runs list", ("runs", "list"), False, EVERYONE, ""),
    Row("runs show", ("runs", "show", "1"), False, EVERYONE, ""),
    Row("runs rejects", ("runs", "rejects", "1"), False, EDITORS,
        "see profile data (segment previews, run rejects)"),
    Row("exports show", ("exports", "show", "{export}"), False, EVERYONE, "",
        scoped=True),
    Row("exports detach", ("exports", "detach", "{export}"), True, EDITORS,
        EXPORT_CHANGES, scoped=True),
    Row("exports remove", ("exports", "remove", "{export}"), True, EDITORS,
        EXPORT_CHANGES, scoped=True),
]  # fmt: skip


@dataclass(frozen=True)
class Template:
    """The data folder every cell starts from, and what its commands refer to."""

    home: Path
    url: str
    tickets: Path
    last4: str
    database: str | None  # a PostgreSQL template database's name, or None: SQLite


@dataclass(frozen=True)
class Place:
    """Where one command runs: its data folder and control-plane database."""

    home: Path
    database_url: str | None = None

    @property
    def url(self) -> str:
        """The control-plane URL as the command sees it."""
        return self.database_url or f"sqlite:///{self.home / 'audiencesync.db'}"


def _invoke(place: Place, *args: str) -> Result:
    env = {"AUDIENCESYNC_HOME": str(place.home), KEY_VARIABLE: CANARY_API_KEY}
    if place.database_url:
        env["AUDIENCESYNC_DATABASE_URL"] = place.database_url
    return CliRunner().invoke(app, list(args), env=env)


def _ok(place: Place, *args: str) -> Result:
    result = _invoke(place, *args)
    assert result.exit_code == 0, (args, result.output)
    return result


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """One emulator on a loopback port for every cell (its rate limits are tested
    elsewhere; here every cell checks a key)."""
    config = EmulatorConfig(
        keys=(ApiKeySpec(CANARY_API_KEY),), rate_limits_enabled=False
    )
    with serve_in_thread(Emulator(config)) as url:
        yield url


def _database_url(server: sqlalchemy.Engine, name: str) -> str:
    return server.url.set(database=name).render_as_string(hide_password=False)


def _admin_sql(server: sqlalchemy.Engine, statement: str) -> None:
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sqlalchemy.text(statement))


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)],
)
def template(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    emulator_url: str,
) -> Iterator[Template]:
    """Users, profiles, segments, both kinds of connection and an export on each."""
    folder = tmp_path_factory.mktemp("matrix")
    database = None
    place = Place(folder / "home")
    if request.param == "postgresql":
        server: sqlalchemy.Engine = request.getfixturevalue("postgres_server")
        database = f"as_matrix_{uuid.uuid4().hex[:12]}"
        _admin_sql(server, f'CREATE DATABASE "{database}"')
        place = Place(place.home, _database_url(server, database))
    yield _build(place, folder, emulator_url, database)
    if database:
        _admin_sql(server, f'DROP DATABASE "{database}" WITH (FORCE)')


def _build(
    place: Place, folder: Path, emulator_url: str, database: str | None
) -> Template:
    home = place
    tickets = folder / "tickets.csv"
    tickets.write_text("customer_id,topic\nC00000001,billing\n", encoding="utf-8")
    _ok(home, "init")
    _ok(home, "users", "add", CONTRIBUTOR, "--role", "contributor")
    _ok(home, "users", "add", VIEWER, "--role", "viewer")
    _ok(home, "users", "add", "olga", "--role", "admin")  # the export user
    _ok(home, "profiles", "generate", "--count", "200", "--seed", "1")
    for name, where in [("FR", "country = 'FR'"), ("DE", "country = 'DE'"),
                        ("NL", "country = 'NL'"),
                        ("Spare", "country = 'IT'")]:  # fmt: skip
        _ok(home, "segments", "create", name, "--where", where)
    # Both connections reach the same project: one segment each (one list, one feeder).
    segments = {"admin-only": "NL", "shared": "DE"}
    for kind, name in CONNECTIONS.items():
        share = ["--allow-contributors"] if kind == "shared" else []
        _ok(home, "connections", "add", "--name", name, "--api-key-env",
            KEY_VARIABLE, "--base-url", emulator_url, "--i-agree", "--as", "olga",
            *share)  # fmt: skip
        _ok(home, "exports", "add", "--name", EXPORTS[kind], "--connection", name,
            "--email-field", "email", "--segment", segments[kind])  # fmt: skip
    _ok(home, "exports", "run", EXPORTS["shared"])  # run 1, for `runs show`
    _ok(home, "schedule", "set", "0 6 * * *")  # for `schedule clear` to clear
    token = _ok(home, "users", "token", CONTRIBUTOR, "--json")
    last4 = json.loads(token.stdout)["last4"]
    _assert_no_key_at_rest(place)
    return Template(place.home, emulator_url, tickets, last4, database)


def _assert_no_key_at_rest(place: Place) -> None:
    """Neither the key nor a piece of it is in any file or control-plane table."""
    for path in place.home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [p for p in CANARY_PIECES if p.encode() in data], path
    engine = sqlalchemy.create_engine(place.url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            for name in sqlalchemy.inspect(conn).get_table_names():
                table = sqlalchemy.Table(
                    name, sqlalchemy.MetaData(), autoload_with=conn
                )
                text = repr(conn.execute(sqlalchemy.select(table)).all())
                assert not [p for p in CANARY_PIECES if p in text], name
    finally:
        engine.dispose()


def _cells() -> list[pytest.ParameterSet]:
    cells = []
    for row in ROWS:
        kinds = list(CONNECTIONS) if row.scoped else [None]
        for kind in kinds:
            for user in ROLES:
                label = f"{row.name}|{user}" + (f"|{kind}" if kind else "")
                cells.append(pytest.param(row, user, kind, id=label))
    return cells


def _expected_allowed(row: Row, user: str, kind: str | None) -> bool:
    if user not in row.allowed:
        return False
    gated = row.change or row.gated
    return not (row.scoped and gated and kind == "admin-only" and user != ADMIN)


def _audit_events(place: Place) -> int:
    engine = sqlalchemy.create_engine(place.url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            count = conn.execute(sqlalchemy.text("SELECT count(*) FROM audit_events"))
            return int(count.scalar_one())
    finally:
        engine.dispose()


def _copy(template: Template, tmp_path: Path, request: pytest.FixtureRequest) -> Place:
    """A fresh copy of the template's folder (and database) for one cell."""
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    if template.database is None:
        return Place(home)
    server: sqlalchemy.Engine = request.getfixturevalue("postgres_server")
    name = f"as_cell_{uuid.uuid4().hex[:12]}"
    _admin_sql(server, f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    request.addfinalizer(
        lambda: _admin_sql(server, f'DROP DATABASE "{name}" WITH (FORCE)')
    )
    return Place(home, _database_url(server, name))


def _arguments(row: Row, template: Template, kind: str | None) -> list[str]:
    values = {
        "tickets": str(template.tickets),
        "url": template.url,
        "last4": template.last4,
        "connection": CONNECTIONS.get(kind or "", ""),
        "export": EXPORTS.get(kind or "", ""),
    }
    return [arg.format(**values) for arg in row.args]


@pytest.mark.parametrize(("row", "user", "kind"), _cells())
def test_cell(  # noqa: PLR0917 - pytest passes parameters and fixtures by name
    row: Row,
    user: str,
    kind: str | None,
    template: Template,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """Allowed: exit 0, one audit event per change. Refused: exit 3, why, none."""
    place = _copy(template, tmp_path, request)
    before = _audit_events(place)
    result = _invoke(place, *_arguments(row, template, kind), "--as", user)
    added = _audit_events(place) - before
    if _expected_allowed(row, user, kind) and row.blocked:
        assert (result.exit_code, added) == (2, 0), result.output
        assert row.blocked in result.stderr
        return
    if _expected_allowed(row, user, kind):
        assert result.exit_code == 0, result.output
        changes = row.change and (kind is None or kind != row.no_op_on)
        assert added == (1 if changes else 0)
        return
    assert result.exit_code == 3, result.output
    assert added == 0
    if user in row.allowed:
        connection = CONNECTIONS[kind or ""]
        assert f"Connection {connection!r} is for administrators only" in result.stderr
    else:
        assert f"{user} is {ROLES[user]} and cannot {row.refusal}" in result.stderr
