"""Where profiles live: the embedded DuckDB store over Parquet files, or an
external database, behind one :class:`~audiencesync.profiles.engine.ProfileEngine`.

Modules: ``catalog`` (tables, columns, kinds), ``engine`` (the protocol),
``duckdb_engine`` and ``sql_engine`` (the engines), ``engines`` (pick one from
the settings), ``tables`` (table files and their metadata), ``sources`` and
``importing`` (import CSV, Parquet and JSON lines), ``generator`` (sample
profiles), ``schema`` (describe the tables) and ``service`` (what the CLI calls).
"""

from __future__ import annotations

from audiencesync.profiles.engines import open_engine

__all__ = ["open_engine"]
