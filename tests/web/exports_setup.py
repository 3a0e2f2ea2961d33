"""Profiles, segments and connections for the export routes' tests.

The connections are rows made directly (their keys are not real): export
routes never reach Iterable, so they need no emulator.
"""

from __future__ import annotations

from audiencesync.auth.directory import resolve_actor
from audiencesync.profiles import open_engine
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.rules import parse_where
from audiencesync.segments.service import SegmentService
from tests.exports.conftest import ADMINS_ONLY, CUSTOMERS, SHARED, _connection
from tests.web.conftest import Api

__all__ = ["ADMINS_ONLY", "SHARED", "add_connections", "add_profiles_and_segments"]


def add_profiles_and_segments(api: Api) -> None:
    """Import three customers; segments France (2) and Germany (1)."""
    settings = api.context.settings
    source = settings.home / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    import_profiles(settings, source)
    engine = open_engine(settings)
    try:
        admin = resolve_actor(api.context.database, "admin")
        segments = SegmentService(api.context.database, engine, actor=admin)
        segments.create("France", parse_where("country = 'FR'"))
        segments.create("Germany", parse_where("country = 'DE'"))
    finally:
        engine.close()


def add_connections(api: Api) -> None:
    """Two connections: one shared with contributors, one for administrators."""
    with api.context.database.session() as session:
        session.add_all(
            [
                _connection(SHARED, shared=True, last4="abcd"),
                _connection(ADMINS_ONLY, shared=False, last4="wxyz"),
            ]
        )
