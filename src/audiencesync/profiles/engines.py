"""Open the profile engine the settings point at."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audiencesync.profiles.engine import ProfileEngine
    from audiencesync.settings import Settings


def open_engine(settings: Settings) -> ProfileEngine:
    """The embedded DuckDB store, Spark, or the external database at ``profiles_url``.

    The caller closes the engine.
    """
    if settings.profiles_url is None:
        from audiencesync.profiles.duckdb_engine import (  # noqa: PLC0415 - load only the engine in use
            DuckDBEngine,
        )

        return DuckDBEngine(
            settings.profiles_folder, profile_table=settings.profile_table
        )
    from audiencesync.profiles.spark_engine import (  # noqa: PLC0415 - load only the engine in use
        SparkEngine,
        is_spark_url,
    )

    if is_spark_url(settings.profiles_url):
        return SparkEngine(
            settings.profiles_url,
            profile_table=settings.profile_table,
            key=settings.profile_key,
        )
    from audiencesync.profiles.sql_engine import SqlEngine  # noqa: PLC0415 - load only the engine in use

    return SqlEngine(
        settings.profiles_url,
        profile_table=settings.profile_table,
        key=settings.profile_key,
        timeout=settings.profiles_timeout,
    )
