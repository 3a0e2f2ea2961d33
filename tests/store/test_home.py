"""``initialize`` (audiencesync.app.home): folder, database, key and first admin."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from audiencesync.app.home import initialize
from audiencesync.auth.passwords import verify_password
from audiencesync.auth.roles import Actor, Role
from audiencesync.auth.users import resolve_actor
from audiencesync.errors import ConfigError
from audiencesync.settings import Settings, load_settings
from audiencesync.store import Database, User, head_revision


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose data folder does not exist yet."""
    return load_settings(home=tmp_path / "home")


def mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


def revision(url: str) -> str | None:
    """The schema revision of the database at ``url``."""
    with Database.open(url) as database:
        return database.revision()


def test_init_creates_the_folder_database_and_key(settings: Settings) -> None:
    """A first run creates everything and says so."""
    report = initialize(settings)
    assert settings.profiles_folder.is_dir()
    assert revision(settings.database) == head_revision()
    assert report.key_file == settings.key_file.resolve()
    assert mode(settings.key_file) == 0o600
    assert (report.home_created, report.key_created, report.changed) == (
        True,
        True,
        True,
    )
    assert (report.schema_from, report.schema_to) == (None, head_revision())
    assert (report.admin, report.admin_created) == ("admin", True)


def test_the_key_file_holds_a_fernet_key(settings: Settings) -> None:
    """The key file can build a Fernet cipher."""
    initialize(settings)
    Fernet(settings.key_file.read_bytes())


def test_key_file_is_0600_whatever_the_umask(settings: Settings) -> None:
    """A permissive umask does not widen the key file's mode."""
    previous = os.umask(0)
    try:
        initialize(settings)
    finally:
        os.umask(previous)
    assert mode(settings.key_file) == 0o600


def test_second_run_keeps_the_key_and_changes_nothing(settings: Settings) -> None:
    """Running init again keeps the key byte-identical and reports no change."""
    initialize(settings)
    key = settings.key_file.read_bytes()
    report = initialize(settings)
    assert settings.key_file.read_bytes() == key
    assert not report.changed
    assert (report.schema_from, report.schema_to) == (head_revision(),) * 2
    assert (report.admin, report.admin_created) == ("admin", False)


def test_secret_key_in_the_environment_means_no_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With AUDIENCESYNC_SECRET_KEY set, no key file is written."""
    monkeypatch.setenv("AUDIENCESYNC_SECRET_KEY", Fernet.generate_key().decode())
    settings = load_settings(home=tmp_path / "home")
    report = initialize(settings)
    assert (report.key_file, report.key_created) == (None, False)
    assert not settings.key_file.exists()


def test_invalid_secret_key_in_the_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A malformed AUDIENCESYNC_SECRET_KEY is a ConfigError that does not show it."""
    monkeypatch.setenv("AUDIENCESYNC_SECRET_KEY", "too-short-s3cret")
    with pytest.raises(ConfigError, match="AUDIENCESYNC_SECRET_KEY") as caught:
        initialize(load_settings(home=tmp_path / "home"))
    assert "s3cret" not in str(caught.value)


def test_wide_key_file_mode_is_refused_with_a_chmod_hint(settings: Settings) -> None:
    """A key file others can read stops init and says how to fix it."""
    initialize(settings)
    settings.key_file.chmod(0o644)
    key_file = settings.key_file.resolve()
    with pytest.raises(ConfigError, match=rf"mode 0644.*`chmod 600 {key_file}`"):
        initialize(settings)


def test_a_corrupt_key_file_is_refused_and_kept(settings: Settings) -> None:
    """A key file without a valid key is never replaced: the user must restore it."""
    settings.home.mkdir()
    fd = os.open(settings.key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    with pytest.raises(
        ConfigError, match=r"holds no key\. Restore it from your backup"
    ):
        initialize(settings)
    assert settings.key_file.read_bytes() == b""


def test_a_key_file_with_rotation_keys_is_accepted(settings: Settings) -> None:
    """A file left with NEW and OLD keys (an interrupted rotation) is fine for init."""
    settings.home.mkdir()
    keys = Fernet.generate_key() + b"\n" + Fernet.generate_key() + b"\n"
    fd = os.open(settings.key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, keys)
    os.close(fd)
    assert initialize(settings).key_created is False
    assert settings.key_file.read_bytes() == keys


def test_key_file_elsewhere_gets_its_folder(tmp_path: Path) -> None:
    """AUDIENCESYNC_SECRET_KEY_FILE in a new folder: init creates the folder."""
    key_file = tmp_path / "secrets" / "audiencesync.key"
    initialize(load_settings(home=tmp_path / "home", secret_key_file=key_file))
    assert mode(key_file) == 0o600


def test_sqlite_database_elsewhere_gets_its_folder(tmp_path: Path) -> None:
    """A SQLite URL in a folder that does not exist yet: init creates the folder."""
    url = f"sqlite:///{tmp_path / 'db' / 'control.db'}"
    initialize(load_settings(home=tmp_path / "home", database_url=url))
    assert revision(url) == head_revision()


def users(url: str) -> list[tuple[str, str, str | None]]:
    """(name, role, created_by) of every user in the database at ``url``."""
    with Database.open(url) as database, database.session() as session:
        rows = session.execute(select(User.name, User.role, User.created_by))
        return [(name, role, created_by) for name, role, created_by in rows]


def test_init_creates_the_first_administrator_as_default_user(
    settings: Settings,
) -> None:
    """The first run creates ``admin``, made by ``init``, who acts by default."""
    initialize(settings)
    assert users(settings.database) == [("admin", "admin", "init")]
    with Database.open(settings.database) as database:
        assert resolve_actor(database, None) == Actor("admin", Role.ADMIN)


def test_init_creates_the_administrator_only_once(settings: Settings) -> None:
    """A second run, even with another --admin, creates nobody and reports the first."""
    initialize(settings, admin="ana")
    report = initialize(settings, admin="bob")
    assert (report.admin, report.admin_created) == ("ana", False)
    assert users(settings.database) == [("ana", "admin", "init")]


def test_init_stores_the_administrators_password_hashed(settings: Settings) -> None:
    """The password given to init is stored as an Argon2 hash."""
    initialize(settings, password="correct horse battery")
    with Database.open(settings.database) as database, database.session() as session:
        stored = session.scalar(select(User.password_hash))
    assert stored is not None
    assert verify_password(stored, "correct horse battery")


@pytest.mark.parametrize(
    ("admin", "password", "message"),
    [
        ("ana b", None, "not allowed"),
        ("ana", "too short", "too short"),
    ],
    ids=["bad name", "short password"],
)
def test_bad_admin_or_password_stops_init_before_anything(
    settings: Settings, admin: str, password: str | None, message: str
) -> None:
    """A bad name or password is refused before the folder is even created."""
    with pytest.raises(ConfigError, match=message):
        initialize(settings, admin=admin, password=password)
    assert not settings.home.exists()


@pytest.fixture
def postgres_settings(tmp_path: Path, postgres_url: str) -> Settings:
    """Settings whose control-plane database is PostgreSQL."""
    return load_settings(home=tmp_path / "home", database_url=postgres_url)


def test_init_migrates_a_postgresql_database(postgres_settings: Settings) -> None:
    """init creates the schema on PostgreSQL too, and the folder for profiles."""
    report = initialize(postgres_settings)
    assert report.database.startswith("postgresql+psycopg://")
    assert revision(postgres_settings.database) == head_revision()
    assert postgres_settings.profiles_folder.is_dir()
    assert users(postgres_settings.database) == [("admin", "admin", "init")]
