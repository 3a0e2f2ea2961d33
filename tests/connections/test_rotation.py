"""Key rotation (T13): new key only afterwards, crash-safe, broken tokens left alone."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from audiencesync.connections import ConnectionService, ConnectionState
from audiencesync.connections import rotation as rotation_module
from audiencesync.core.secrets import KeyRing, SecretUnreadableError, read_key_file
from audiencesync.errors import AccessDeniedError, ConfigError
from audiencesync.store import Database
from audiencesync.store.destinations import Connection

from .conftest import EU_KEY, OTHER_KEY, US_KEY, MakeService

KEYS = {"Alpha": US_KEY, "Beta": EU_KEY, "Gamma": OTHER_KEY}


@pytest.fixture
def three(admin: ConnectionService) -> ConnectionService:
    """The admin's service, after adding three connections."""
    for name, key in KEYS.items():
        admin.add(name, api_key=key, agreed=True)
    return admin


def tokens(database: Database) -> dict[str, str]:
    """Each connection's stored token, by name."""
    with database.session() as session:
        rows = session.scalars(select(Connection)).all()
        return {row.name: row.api_key_token for row in rows}


def decrypt_all(database: Database, ring: KeyRing) -> dict[str, str]:
    """Each connection's key, decrypted with ``ring`` alone."""
    return {name: ring.decrypt(token) for name, token in tokens(database).items()}


def damage(database: Database, name: str) -> None:
    """Corrupt the end (the HMAC) of one connection's token."""
    with database.session() as session:
        row = session.scalars(select(Connection).where(Connection.name == name)).one()
        row.api_key_token = row.api_key_token[:-6] + "AAAAAA"


def test_after_rotation_only_the_new_key_is_needed(
    three: ConnectionService, database: Database, key_file: Path
) -> None:
    """The key file holds one new key, and it alone decrypts every connection."""
    old = read_key_file(key_file)
    report = three.rotate_keys()
    new = read_key_file(key_file)
    assert (len(new), new == old) == (1, False)
    assert decrypt_all(database, KeyRing(new)) == KEYS
    assert report.rotated == ("Alpha", "Beta", "Gamma")
    assert report.broken == ()
    with pytest.raises(SecretUnreadableError):
        decrypt_all(database, KeyRing(old))


def test_the_rewritten_key_file_keeps_mode_0600(
    three: ConnectionService, key_file: Path
) -> None:
    """Rotation never widens the key file's permissions."""
    three.rotate_keys()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_damaged_token_is_reported_and_left_alone(
    three: ConnectionService, database: Database, key_file: Path
) -> None:
    """The broken connection stays as it was; the others rotate to the new key."""
    damage(database, "Beta")
    before = tokens(database)["Beta"]
    report = three.rotate_keys()
    assert (report.rotated, report.broken) == (("Alpha", "Gamma"), ("Beta",))
    assert tokens(database)["Beta"] == before
    ring = KeyRing(read_key_file(key_file))
    assert ring.decrypt(tokens(database)["Alpha"]) == US_KEY
    states = {i.name: i.settings.status.state for i in three.list_all() if i.settings}
    assert states["Beta"] is ConnectionState.BROKEN
    assert states["Gamma"] is ConnectionState.OK


def test_a_crash_after_the_first_write_loses_nothing(
    three: ConnectionService,
    database: Database,
    key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dying before the database commit leaves NEW,OLD in the file: all readable."""

    def crash(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(rotation_module, "_reencrypt", crash)
    with pytest.raises(KeyboardInterrupt):
        three.rotate_keys()
    assert len(read_key_file(key_file)) == 2
    assert decrypt_all(database, KeyRing(read_key_file(key_file))) == KEYS
    monkeypatch.undo()
    three.rotate_keys()
    assert decrypt_all(database, KeyRing(read_key_file(key_file))) == KEYS
    assert len(read_key_file(key_file)) == 1


def test_a_crash_before_the_last_write_loses_nothing(
    three: ConnectionService,
    database: Database,
    key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dying after the commit leaves tokens under NEW and NEW,OLD in the file."""
    calls: list[int] = []
    save = KeyRing.save

    def save_then_crash(ring: KeyRing) -> None:
        calls.append(ring.key_count)
        if len(calls) == 2:
            raise KeyboardInterrupt
        save(ring)

    monkeypatch.setattr(KeyRing, "save", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        three.rotate_keys()
    ring = KeyRing(read_key_file(key_file))
    assert ring.key_count == 2
    assert decrypt_all(database, ring.newest_only()) == KEYS


def test_env_keys_rotate_under_the_first(
    make_service: MakeService, database: Database
) -> None:
    """With NEW,OLD in the environment, everything ends up under NEW alone."""
    old = Fernet.generate_key()
    admin = make_service("ana", ring=KeyRing([old]))
    for name, key in KEYS.items():
        admin.add(name, api_key=key, agreed=True)
    new = Fernet.generate_key()
    report = make_service("ana", ring=KeyRing([new, old])).rotate_keys()
    assert report.key_file is None
    assert decrypt_all(database, KeyRing([new])) == KEYS


def test_a_single_env_key_cannot_be_rotated(
    make_service: MakeService, database: Database
) -> None:
    """audiencesync cannot change the environment: the error says how to rotate."""
    admin = make_service("ana", ring=KeyRing([Fernet.generate_key()]))
    with pytest.raises(ConfigError, match="AUDIENCESYNC_SECRET_KEY=NEW,OLD"):
        admin.rotate_keys()


@pytest.mark.parametrize("name", ["cy", "vi"])
def test_only_administrators_rotate(
    three: ConnectionService, make_service: MakeService, key_file: Path, name: str
) -> None:
    """Others are refused before the key file is touched."""
    before = key_file.read_bytes()
    with pytest.raises(AccessDeniedError):
        make_service(name).rotate_keys()
    assert key_file.read_bytes() == before


def test_a_process_started_before_the_rotation_keeps_working(
    three: ConnectionService, make_service: MakeService, key_file: Path
) -> None:
    """A service holding the old ring re-reads the key file: it reads and writes."""
    stale = make_service("bo", ring=KeyRing(read_key_file(key_file), key_file=key_file))
    three.rotate_keys()
    assert stale.api_key_for_export("Alpha").api_key.reveal() == US_KEY
    stale.set_key("Beta", api_key=OTHER_KEY)
    fresh = KeyRing(read_key_file(key_file))
    assert fresh.key_count == 1
    assert three.api_key_for_export("Beta").api_key.reveal() == OTHER_KEY
