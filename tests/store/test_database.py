"""Database: SQLite pragmas, sessions, and the messages that name the fix."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from audiencesync.errors import ConfigError
from audiencesync.store import Database, Segment, database_file, display_url
from audiencesync.store import schema as schema_module


def test_sqlite_connections_get_the_pragmas(sqlite_url: str) -> None:
    """Every SQLite connection has WAL, foreign keys on and a 5 s busy timeout."""
    with Database.open(sqlite_url) as database, database.engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}


def test_session_commits_when_the_block_ends(database: Database) -> None:
    """Rows added in a session block are there afterwards."""
    with database.session() as session:
        session.add(Segment(name="VIP", name_key="vip", kind="where", definition={}))
    with database.session() as session:
        assert session.query(Segment.name).all() == [("VIP",)]


def add_then_fail(database: Database) -> None:
    """Add and flush a segment in a session block, then raise."""
    with database.session() as session:
        session.add(Segment(name="VIP", name_key="vip", kind="where", definition={}))
        session.flush()
        raise RuntimeError


def test_session_rolls_back_on_error(database: Database) -> None:
    """An exception in the block discards the session's changes."""
    with pytest.raises(RuntimeError):
        add_then_fail(database)
    with database.session() as session:
        assert session.query(Segment).count() == 0


def test_ensure_current_passes_at_the_head(database: Database) -> None:
    """A migrated database is current."""
    database.ensure_current()


def test_ensure_current_on_an_empty_database_says_run_init(
    empty_database: Database,
) -> None:
    """No audiencesync tables: the message says to initialise it."""
    expected = (
        f"The database at {empty_database.url} has no audiencesync tables:"
        " initialise it first."
    )
    with pytest.raises(ConfigError, match=re.escape(expected)) as caught:
        empty_database.ensure_current()
    assert caught.value.code == "database_empty"


def test_ensure_current_on_an_older_schema_says_upgrade(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A known older revision: the message names both revisions and the fix."""
    database.downgrade("0001")
    monkeypatch.setattr(schema_module, "head_revision", lambda: "0002")
    expected = (
        f"The database at {database.url} is at schema 0001, this audiencesync"
        " needs 0002. Initialising it again upgrades it."
    )
    with pytest.raises(ConfigError, match=re.escape(expected)) as caught:
        database.ensure_current()
    assert caught.value.code == "database_outdated"


def test_ensure_current_on_an_unknown_revision_says_newer_audiencesync(
    database: Database,
) -> None:
    """A revision this version does not know was made by a newer audiencesync."""
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError, match=r"schema 9999, which audiencesync .* newer"):
        database.ensure_current()


def test_unreachable_sqlite_file_is_a_config_error(tmp_path: Path) -> None:
    """A database in a missing folder gives one line naming the URL and the fix."""
    url = f"sqlite:///{tmp_path}/missing/control.db"
    with (
        Database.open(url) as database,
        pytest.raises(
            ConfigError, match=r"Cannot open the database at .*initialise the data"
        ),
    ):
        database.revision()


def test_display_url_hides_the_password() -> None:
    """The password never appears in a URL meant for people."""
    shown = display_url("postgresql+psycopg://ana:s3cret@db.example/audiencesync")
    assert shown == "postgresql+psycopg://ana:***@db.example/audiencesync"


@pytest.mark.parametrize(
    "url",
    ["not a url:s3cret", "postgresql://ana:s3cret@db.example:port/x"],
    ids=["garbage", "bad-port"],
)
def test_invalid_url_error_does_not_repeat_it(url: str) -> None:
    """An unparseable URL is a ConfigError whose message leaves the URL out."""
    with pytest.raises(ConfigError, match="not valid") as caught:
        Database.open(url)
    assert "s3cret" not in str(caught.value)


def test_unknown_driver_is_a_config_error() -> None:
    """A URL naming a driver SQLAlchemy does not have is a ConfigError."""
    with pytest.raises(ConfigError, match="unknown driver"):
        Database.open("nosuchdb://ana:s3cret@host/db")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////data/a.db", "/data/a.db"),
        ("sqlite+pysqlite:///rel/a.db", "rel/a.db"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://ana@host/db", None),
    ],
    ids=["absolute", "relative", "memory", "memory-named", "postgresql"],
)
def test_database_file_names_only_sqlite_files(url: str, expected: str | None) -> None:
    """Only a SQLite file URL names a file whose folder ``init`` must create."""
    found = database_file(url)
    assert (None if found is None else str(found)) == expected


def test_opening_the_same_url_again_keeps_the_compiled_statements(
    sqlite_url: str,
) -> None:
    """A second open of one URL reuses the engine, so its statements compile once."""
    with Database.open(sqlite_url) as first:
        first.upgrade()
        first.revision()
        cached = len(first.engine._compiled_cache or {})
    with Database.open(sqlite_url) as second:
        assert second.engine is first.engine
        second.revision()
        assert len(second.engine._compiled_cache or {}) == cached


def test_closing_lets_a_replaced_database_file_be_read_anew(tmp_path: Path) -> None:
    """After close, the next open reads the file now on disk, not the one it had."""
    url = f"sqlite:///{tmp_path / 'control.db'}"
    with Database.open(url) as database:
        database.upgrade()
        assert database.revision() is not None  # a connection to the old file
    (tmp_path / "control.db").rename(tmp_path / "moved.db")
    with Database.open(url) as database:
        assert database.revision() is None  # a new, empty file


def test_a_forked_child_never_uses_the_parents_connection(sqlite_url: str) -> None:
    """After fork, the child's pool is empty; its own last close closes its own."""
    script = f"""
import os
from audiencesync.store import Database
database = Database.open({sqlite_url!r})
database.revision()
assert database.engine.pool.checkedin() == 1
pid = os.fork()
if pid == 0:
    clean = database.engine.pool.checkedin() == 0
    with Database.open({sqlite_url!r}) as own:  # the child's own, closed at the end
        own.revision()
    os._exit(0 if clean and own.engine.pool.checkedin() == 0 else 3)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, "the child saw the parent's connection"
database.revision()  # the parent's own connection still works
"""
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_closing_one_of_two_opens_leaves_the_others_connections(
    database_url: str,
) -> None:
    """Only the last close of a URL closes its pooled connections."""
    first = Database.open(database_url)
    with Database.open(database_url) as second:
        second.revision()
        first.close()
        first.close()  # closing twice counts once
        pool = second.engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedin() == 1
    assert pool.checkedin() == 0
