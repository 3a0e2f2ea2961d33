"""The schema's revisions, read without Alembic: the database's and the newest.

Every command checks that the database is at the newest revision before it
starts; only ``init`` migrates. The check reads Alembic's ``alembic_version``
table with SQLAlchemy and names the newest revision from the scripts' file names,
so a command imports Alembic (:mod:`audiencesync.store.migrating`) only when it
really upgrades or downgrades. A test checks both against Alembic's own view.

The migration scripts live in ``store/migrations/versions``, one file per
revision, named by its revision (``0001_segments.py`` holds ``revision =
"0001"``), in a single line of history. To add one, copy the latest file, bump
``revision`` and ``down_revision``, and write ``upgrade()`` and ``downgrade()``
by hand (``render_as_batch`` lets SQLite alter tables).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_SCRIPT_NAME = "[0-9][0-9][0-9][0-9]_*.py"


def known_revisions() -> list[str]:
    """Every revision this audiencesync ships, oldest first."""
    scripts = (MIGRATIONS / "versions").glob(_SCRIPT_NAME)
    return sorted(script.name[:4] for script in scripts)


def head_revision() -> str:
    """The newest revision this audiencesync knows."""
    known = known_revisions()
    if not known:  # pragma: no cover - the package always ships 0001
        msg = f"no migration scripts in {MIGRATIONS}"
        raise RuntimeError(msg)
    return known[-1]


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this audiencesync's migration scripts."""
    return revision in known_revisions()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None when it has no audiencesync tables."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    query = text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 - a constant
    versions = connection.execute(query).scalars().all()
    if len(versions) > 1:  # pragma: no cover - one line of history, one head
        msg = f"the database has {len(versions)} schema heads, expected one"
        raise RuntimeError(msg)
    return versions[0] if versions else None
