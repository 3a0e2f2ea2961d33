"""Profile-store actions as the acting user: role checked, change audited.

The functions in :mod:`audiencesync.profiles.service` do the work; this class
adds who may do it (administrators and contributors import, refresh and generate;
only administrators approve or discard a held refresh; everyone reads the schema)
and writes one audit event per change.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from audiencesync.auth.audit import record_event
from audiencesync.auth.roles import Action, Actor, check
from audiencesync.auth.users import admin_names
from audiencesync.profiles import service

if TYPE_CHECKING:
    from audiencesync.profiles.catalog import Catalog
    from audiencesync.profiles.generator import GenerateReport
    from audiencesync.profiles.holds import Hold
    from audiencesync.profiles.importing import ImportReport
    from audiencesync.profiles.refreshing import TableRefresh
    from audiencesync.profiles.service import TableDetail
    from audiencesync.settings import Settings
    from audiencesync.store.database import Database


class ProfileManager:
    """Import, generate and describe profiles on behalf of one actor."""

    def __init__(self, settings: Settings, database: Database, actor: Actor) -> None:
        self._settings = settings
        self._database = database
        self._actor = actor

    def import_file(
        self,
        path: Path,
        *,
        table: str | None = None,
        key: str | None = None,
        replace: bool = False,
    ) -> ImportReport:
        """Import ``path`` into a table of the embedded store."""
        self._require(Action.MANAGE_PROFILES)
        report = service.import_profiles(
            self._settings, path, table=table, key=key, replace=replace
        )
        self._audit(
            "profiles.import",
            report.table,
            {
                "mode": str(report.mode),
                "rows": report.rows,
                "rows_added": report.rows_added,
                "rows_updated": report.rows_updated,
            },
        )
        return report

    def refresh_table(self, table: str) -> TableRefresh:
        """Re-apply the table's sources if a file changed (held past the brake)."""
        from audiencesync.profiles.refreshing import RefreshOutcome  # noqa: PLC0415 - DuckDB loads only when used

        self._require(Action.MANAGE_PROFILES)
        result = service.refresh_table(self._settings, table)
        if result.outcome is RefreshOutcome.REFRESHED:
            self._audit(
                "profiles.import",
                table,
                {
                    "mode": "refresh",
                    "rows": result.rows,
                    "rows_before": result.rows_before,
                    "sources": len(result.sources),
                },
            )
        elif result.new_hold and result.hold is not None:
            self._audit("profiles.refresh_held", table, _hold_details(result.hold))
        return result

    def approve_refresh(self, table: str) -> Hold:
        """Put a held refresh in place as it was held (administrators only)."""
        self._require(Action.APPROVE_REMOVALS)
        hold = service.approve_refresh(self._settings, table)
        self._audit("profiles.refresh_approved", table, _hold_details(hold))
        return hold

    def discard_refresh(self, table: str) -> Hold:
        """Drop a held refresh; the table keeps its rows (administrators only)."""
        self._require(Action.APPROVE_REMOVALS)
        hold = service.discard_refresh(self._settings, table)
        self._audit("profiles.refresh_discarded", table, _hold_details(hold))
        return hold

    def generate(
        self,
        *,
        count: int,
        seed: int = 0,
        anchor: date | None = None,
        purchases: bool = True,
    ) -> GenerateReport:
        """Write sample profiles into the embedded store."""
        self._require(Action.MANAGE_PROFILES)
        report = service.generate_sample(
            self._settings, count=count, seed=seed, anchor=anchor, purchases=purchases
        )
        self._audit(
            "profiles.generate",
            report.files[0].table,
            {
                "seed": seed,
                "tables": {
                    generated.table: generated.rows for generated in report.files
                },
            },
        )
        return report

    def schema(self) -> Catalog:
        """The tables of the profile engine."""
        self._require(Action.READ)
        return service.read_schema(self._settings)

    def tables(self) -> list[TableDetail]:
        """Every table with its imports and held refresh."""
        self._require(Action.READ)
        return service.table_details(self._settings)

    def table(self, name: str) -> TableDetail:
        """One table with its imports and held refresh."""
        self._require(Action.READ)
        return service.table_detail(self._settings, name)

    def check_import(self) -> None:
        """Refuse a user who may not import, before any file is received."""
        self._require(Action.MANAGE_PROFILES)

    def _require(self, action: Action) -> None:
        with self._database.session() as session:
            check(self._actor, action, admins=admin_names(session))

    def _audit(self, action: str, table: str, details: dict[str, object]) -> None:
        with self._database.session() as session:
            record_event(
                session,
                self._actor,
                action,
                target_type="table",
                target=table,
                details=details,
            )


def _hold_details(hold: Hold) -> dict[str, object]:
    return {
        "rows": hold.rows,
        "rows_after": hold.new_rows,
        "removed": hold.removed,
        "brake": hold.brake,
        "held_at": hold.held_at.isoformat(),
    }
