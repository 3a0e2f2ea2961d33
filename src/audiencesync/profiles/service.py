"""The profile operations the CLI (and later the web app) call, given settings.

Import and generate manage the embedded store only; with an external engine
(``AUDIENCESYNC_PROFILES_URL``) they refuse with a :class:`ConfigError`, because
audiencesync never writes into a database it does not own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from audiencesync.errors import ConfigError, NotFoundError
from audiencesync.profiles.engines import open_engine

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from audiencesync.profiles.catalog import Catalog, Table
    from audiencesync.profiles.generator import GenerateReport
    from audiencesync.profiles.holds import Hold
    from audiencesync.profiles.importing import ImportReport
    from audiencesync.profiles.refreshing import TableRefresh
    from audiencesync.profiles.tables import TableInfo
    from audiencesync.settings import Settings


def import_profiles(
    settings: Settings,
    path: Path,
    *,
    table: str | None = None,
    key: str | None = None,
    replace: bool = False,
) -> ImportReport:
    """Import ``path`` into ``table`` (default: the profile table) of the store."""
    from audiencesync.profiles.importing import import_file  # noqa: PLC0415 - DuckDB loads only when used

    _require_embedded(settings, "import")
    return import_file(
        settings.profiles_folder,
        path,
        table=table or settings.profile_table,
        key=key,
        replace=replace,
        profile_table=settings.profile_table,
    )


def refresh_table(settings: Settings, table: str) -> TableRefresh:
    """Re-apply ``table``'s sources if a file changed, behind the removal brake."""
    from audiencesync.profiles import refreshing  # noqa: PLC0415 - DuckDB loads only when used

    _require_embedded(settings, "refresh")
    return refreshing.refresh_table(
        settings.profiles_folder,
        table,
        profile_table=settings.profile_table,
        brake=settings.refresh_removal_brake,
    )


def approve_refresh(settings: Settings, table: str) -> Hold:
    """Put the held refresh of ``table`` in place, exactly as it was held."""
    from audiencesync.profiles import holds  # noqa: PLC0415 - on first use

    _require_embedded(settings, "approve")
    return holds.approve_hold(settings.profiles_folder, table)


def discard_refresh(settings: Settings, table: str) -> Hold:
    """Delete the held refresh of ``table``; the table keeps its rows."""
    from audiencesync.profiles import holds  # noqa: PLC0415 - on first use

    _require_embedded(settings, "discard")
    return holds.discard_hold(settings.profiles_folder, table)


def generate_sample(
    settings: Settings,
    *,
    count: int,
    seed: int = 0,
    anchor: date | None = None,
    out: Path | None = None,
    purchases: bool = True,
) -> GenerateReport:
    """Sample profiles into the store, or into the file ``out``."""
    from audiencesync.profiles import generator  # noqa: PLC0415 - DuckDB loads only when used

    if out is not None:
        return generator.write_profiles(out, count=count, seed=seed, anchor=anchor)
    _require_embedded(settings, "generate")
    return generator.generate_profiles(
        settings.profiles_folder,
        count=count,
        seed=seed,
        anchor=anchor,
        purchases=purchases,
        profile_table=settings.profile_table,
    )


def read_schema(settings: Settings) -> Catalog:
    """The tables of the profile engine the settings point at."""
    engine = open_engine(settings)
    try:
        return engine.catalog()
    finally:
        engine.close()


@dataclass(frozen=True, slots=True)
class TableDetail:
    """A table of the engine, with its imports and held refresh when it has them."""

    table: Table
    info: TableInfo | None = None
    hold: Hold | None = None


def table_details(settings: Settings) -> list[TableDetail]:
    """Every table of the engine, with the embedded store's sources and holds."""
    catalog = read_schema(settings)
    return [_detail(settings, table) for table in catalog.tables]


def table_detail(settings: Settings, name: str) -> TableDetail:
    """One table by its exact name (NotFoundError when it does not exist)."""
    catalog = read_schema(settings)
    table = catalog.table(name)
    if table is None:
        msg = f"There is no table named {name!r}."
        raise NotFoundError(msg, details={"table": name})
    return _detail(settings, table)


def _detail(settings: Settings, table: Table) -> TableDetail:
    if settings.profiles_url is not None:
        return TableDetail(table)
    from audiencesync.profiles.holds import read_hold  # noqa: PLC0415 - on first use
    from audiencesync.profiles.tables import read_table_info  # noqa: PLC0415

    try:
        info = read_table_info(settings.profiles_folder, table.name)
    except ConfigError:
        info = None
    return TableDetail(table, info, read_hold(settings.profiles_folder, table.name))


def _require_embedded(settings: Settings, command: str) -> None:
    if settings.profiles_url is not None:
        msg = (
            f"profiles {command} manages only the embedded profile store, and"
            " AUDIENCESYNC_PROFILES_URL points at an external database; load data"
            " there with that database's own tools, or unset"
            " AUDIENCESYNC_PROFILES_URL to use the embedded store."
        )
        if command == "generate":
            msg += " To write sample profiles to a file, give an output file."
        raise ConfigError(msg)
