"""The schema's revisions read without Alembic agree with Alembic's own view."""

from __future__ import annotations

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from audiencesync.store import Database, schema
from audiencesync.store.migrating import alembic_config


def test_head_revision_is_alembics_head() -> None:
    """The newest script's file name names the head Alembic finds."""
    scripts = ScriptDirectory.from_config(alembic_config())
    assert schema.head_revision() == scripts.get_current_head()


def test_known_revisions_are_alembics_scripts() -> None:
    """Every script Alembic walks is known, oldest first, and nothing else."""
    scripts = ScriptDirectory.from_config(alembic_config())
    walked = [script.revision for script in scripts.walk_revisions()]
    assert schema.known_revisions() == walked[::-1]


def test_empty_database_has_no_revision(empty_database: Database) -> None:
    """No ``alembic_version`` table: no revision, as Alembic says."""
    with empty_database.engine.connect() as connection:
        assert schema.current_revision(connection) is None
        assert MigrationContext.configure(connection).get_current_revision() is None


@pytest.mark.parametrize("revision", ["head", "0003", "base"])
def test_current_revision_is_what_alembic_reads(
    database: Database, revision: str
) -> None:
    """At the head, an older revision or after downgrading to base: Alembic's answer."""
    if revision != "head":
        database.downgrade(revision)
    with database.engine.connect() as connection:
        alembic_says = MigrationContext.configure(connection).get_current_revision()
        assert schema.current_revision(connection) == alembic_says
