"""``audiencesync init``: data folder, database, secret key and first administrator.

:func:`initialize` is idempotent: run it again and it keeps the key file
byte-identical, leaves a current database alone and upgrades an older one, and
creates the first administrator only while there are no users at all.
It never prints or logs the key or the administrator's password. It makes the
data folder private (folders 0700, files 0600: :mod:`audiencesync.core.private`),
narrowing what an older version left wider.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from audiencesync.auth.directory import normalize_user_name
from audiencesync.auth.passwords import check_password
from audiencesync.auth.users import ensure_first_admin
from audiencesync.core.private import restrict_new_files, tighten
from audiencesync.core.secrets import parse_keys, read_key_file
from audiencesync.errors import ConfigError
from audiencesync.settings import Settings
from audiencesync.store import Database, database_file, head_revision

KEY_FILE_MODE = 0o600
DEFAULT_ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class InitReport:
    """What ``init`` found and did.

    ``schema_from`` is None when the database had no audiencesync tables;
    ``key_file`` is None when the key comes from ``AUDIENCESYNC_SECRET_KEY``;
    ``admin`` is the default CLI user (the first administrator).
    """

    home: Path
    home_created: bool
    database: str
    schema_from: str | None
    schema_to: str
    key_file: Path | None
    key_created: bool
    admin: str
    admin_created: bool

    @property
    def schema_changed(self) -> bool:
        """Whether the database was created or upgraded."""
        return self.schema_from != self.schema_to

    @property
    def changed(self) -> bool:
        """Whether this run created or upgraded anything."""
        return (
            self.home_created
            or self.schema_changed
            or self.key_created
            or self.admin_created
        )


def initialize(
    settings: Settings, *, admin: str = DEFAULT_ADMIN, password: str | None = None
) -> InitReport:
    """Create or upgrade the data folder, the database and the secret key file.

    While the database has no user, create administrator ``admin`` (with
    ``password``, if given) and make it the default CLI user. The name and the
    password are checked before anything is created.
    """
    admin = normalize_user_name(admin)
    if password is not None:
        check_password(password)
    restrict_new_files()
    home = settings.home.resolve()
    home_created = not home.is_dir()
    home.mkdir(parents=True, exist_ok=True)
    settings.profiles_folder.mkdir(exist_ok=True)
    key_file, key_created = ensure_secret_key(settings)
    with Database.open(settings.database) as database:
        schema_from, schema_to = migrate(database, settings.database)
        tighten(home, recursive=True, extra=_outside(settings, home),
                leave=settings.key_file)  # fmt: skip
        with database.session() as session:
            admin, admin_created = ensure_first_admin(
                session, name=admin, password=password
            )
        return InitReport(
            home=home,
            home_created=home_created,
            database=database.url,
            schema_from=schema_from,
            schema_to=schema_to,
            key_file=key_file,
            key_created=key_created,
            admin=admin,
            admin_created=admin_created,
        )


def _outside(settings: Settings, home: Path) -> tuple[Path, ...]:
    """The database file, when it is kept outside the data folder."""
    file = database_file(settings.database)
    if file is None or file.resolve().is_relative_to(home):
        return ()
    return (file.resolve(),)


def migrate(database: Database, url: str) -> tuple[str | None, str]:
    """Upgrade ``database`` to the head; the revisions before and after.

    A database already at the head is left alone (Alembic is not even loaded).
    """
    file = database_file(url)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    before = database.revision()
    if before == head_revision():
        return before, before
    database.upgrade()
    after = database.revision()
    if after is None:  # pragma: no cover - upgrade() always stamps a revision
        msg = f"The database at {database.url} has no revision after upgrading it."
        raise ConfigError(msg)
    return before, after


def ensure_secret_key(settings: Settings) -> tuple[Path | None, bool]:
    """The key file and whether it was created (None when the key is in the env)."""
    if settings.secret_key is not None:
        text = settings.secret_key.get_secret_value()
        parse_keys(text.split(","), source="AUDIENCESYNC_SECRET_KEY")
        return None, False
    path = settings.key_file.resolve()
    created = create_key_file(path)
    read_key_file(path)  # a kept file may hold several keys, newest first
    return path, created


def create_key_file(path: Path) -> bool:
    """Write a fresh Fernet key to ``path`` (mode 0600) unless the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), KEY_FILE_MODE)  # the umask cannot narrow it either
        file.write(Fernet.generate_key())
    return True
