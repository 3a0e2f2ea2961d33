"""The control-plane database: an engine, sessions, and the schema's revision.

:meth:`Database.open` takes a SQLAlchemy URL (SQLite or PostgreSQL). On SQLite
every connection gets write-ahead logging, enforced foreign keys and a busy
timeout. Messages name the database by its URL with the password hidden.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

from audiencesync import __version__
from audiencesync.errors import ConfigError
from audiencesync.store import schema

# synchronous=NORMAL: in WAL mode a commit survives a killed process; a power loss
# may roll back the last commits, never corrupt the file. For run checkpoints that
# only means re-sending a batch, which subscribing makes harmless.
SQLITE_PRAGMAS = (
    "busy_timeout=5000",
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
)
URL_HINT = "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE"


def parse_url(url: str) -> URL:
    """The parsed SQLAlchemy URL, or a ConfigError that does not repeat it."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        msg = f"The database URL is not valid; {URL_HINT}"
        raise ConfigError(msg) from exc


def display_url(url: str | URL) -> str:
    """The URL as it may be shown: the password replaced by ``***``."""
    parsed = parse_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def database_file(url: str) -> Path | None:
    """The SQLite database file the URL names (None for a server or in memory)."""
    parsed = parse_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return None if name.startswith("file:") else Path(name)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def damaged(url: str, exc: DatabaseError) -> ConfigError:
    """The error for a database file that is not one (corrupt, truncated, other)."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreadable"
    msg = (
        f"The database at {url} is damaged or is not an audiencesync database"
        f" ({reason}). Restore it from a backup, or move it away and initialise"
        " a new one."
    )
    return ConfigError(msg, code="database_damaged")


class _Engines:
    """The process's engines, one per database URL, the most recently used kept.

    An engine keeps SQLAlchemy's cache of compiled statements: a process that
    opens the same database again (``serve``, the scheduler, a test's many
    commands) compiles its ~50 statements once instead of on every open. When
    the last :class:`Database` open on a URL closes, the engine's pooled
    connections are closed, never the engine: a database file replaced on disk
    is opened anew. A forked child drops the parent's connections without
    closing them, as SQLAlchemy advises.
    """

    KEEP = 8  # engines no Database holds open, kept for their statements

    def __init__(self) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, url: URL) -> Engine:
        """The engine for ``url`` (created on first use), held until released."""
        key = url.render_as_string(hide_password=False)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = _new_engine(url)
            self._engines.move_to_end(key)
            self._open[key] = self._open.get(key, 0) + 1
            self._evict()
            return engine

    def release(self, url: URL, engine: Engine) -> None:
        """One holder of ``url`` is done: the last one closes its pooled connections."""
        key = url.render_as_string(hide_password=False)
        with self._lock:  # no one acquires it while its pool is replaced
            held = self._open.pop(key, 1) - 1
            if held > 0:
                self._open[key] = held
                return
            engine.dispose()

    def forget_connections(self) -> None:
        """In a forked child: never use, nor close, the parent's connections.

        The parent's holders are not the child's: the child's last close of a URL
        closes the connections it opened.
        """
        self._lock = threading.Lock()  # another thread may have held it at the fork
        self._open = {}
        for engine in list(self._engines.values()):
            engine.dispose(close=False)

    def _evict(self) -> None:
        idle = [key for key in self._engines if key not in self._open]
        for key in idle[: max(0, len(idle) - self.KEEP)]:
            del self._engines[key]  # its last holder closed its connections


def _new_engine(url: URL) -> Engine:
    try:
        engine = create_engine(url)
    except NoSuchModuleError as exc:
        msg = f"The database URL names an unknown driver ({exc}); {URL_HINT}"
        raise ConfigError(msg) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


_ENGINES = _Engines()
os.register_at_fork(after_in_child=_ENGINES.forget_connections)


class Database:
    """One control-plane database: sessions, migrations and revision checks."""

    def __init__(self, engine: Engine, *, shared_as: URL) -> None:
        """Use :meth:`open`: ``engine`` is the process's one for ``shared_as``."""
        self._engine, self._shared_as = engine, shared_as
        self._closed = False
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Database:
        """A Database on ``url`` (no connection is made yet).

        The engine is the process's one for that URL (see :class:`_Engines`).
        """
        parsed = parse_url(url)
        return cls(_ENGINES.acquire(parsed), shared_as=parsed)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine."""
        return self._engine

    @property
    def url(self) -> str:
        """The database URL with its password hidden."""
        return display_url(self._engine.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends, or rolls back on error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def steady_session(self) -> Iterator[Session]:
        """One session for many short transactions (``with session.begin():`` each).

        For loops that commit often, such as a run's checkpoints: the session and
        its connection are set up once.
        """
        with self._sessions() as session:
            yield session

    def revision(self) -> str | None:
        """The schema revision, or None when the database has no audiencesync tables."""
        with self._connection() as connection:
            return schema.current_revision(connection)

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema up to ``revision`` (the newest by default)."""
        from audiencesync.store import migrating  # noqa: PLC0415 - Alembic is slow

        self._migrate(migrating.upgrade, revision)

    def downgrade(self, revision: str) -> None:
        """Migrate the schema down to ``revision`` (``"base"`` drops every table)."""
        from audiencesync.store import migrating  # noqa: PLC0415 - Alembic is slow

        self._migrate(migrating.downgrade, revision)

    def ensure_current(self) -> None:
        """Raise ConfigError, naming the fix, unless the schema is at the head."""
        current, head = self.revision(), schema.head_revision()
        if current == head:
            return
        if current is None:
            msg = (
                f"The database at {self.url} has no audiencesync tables:"
                " initialise it first."
            )
            code = "database_empty"
        elif schema.is_known_revision(current):
            msg = (
                f"The database at {self.url} is at schema {current}, this"
                f" audiencesync needs {head}. Initialising it again upgrades it."
            )
            code = "database_outdated"
        else:
            msg = (
                f"The database at {self.url} is at schema {current}, which"
                f" audiencesync {__version__} does not know: a newer audiencesync"
                " upgraded it. Install that version or a newer one."
            )
            code = "database_too_new"
        raise ConfigError(msg, code=code)

    def close(self) -> None:
        """Close every pooled connection, unless another Database uses this engine.

        The engine of :meth:`open` and its statement cache stay for the next open.
        """
        if self._closed:
            return
        self._closed = True
        _ENGINES.release(self._shared_as, self._engine)

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        try:
            connection = self._engine.connect()
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no reason"
            msg = (
                f"Cannot open the database at {self.url} ({reason}). Check"
                " AUDIENCESYNC_DATABASE_URL, or initialise the data folder to create"
                " the default one."
            )
            raise ConfigError(msg, code="database_unreachable") from exc
        except DatabaseError as exc:
            raise damaged(self.url, exc) from exc
        with connection:
            yield connection

    def _migrate(self, step: Callable[[Connection, str], None], revision: str) -> None:
        with self._connection() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch migrations copy a table and drop the old one; with foreign
                # keys on, that drop would cascade-delete the rows that refer to it.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            try:
                step(connection, revision)
                connection.commit()
            finally:
                if sqlite:
                    connection.invalidate()  # the pool reconnects with the pragmas
