"""Profile views: the schema, tables with their imports, an import's result.

``profiles schema/import/approve/discard --json`` print these and the REST API
returns them. A source is named by its file name only (not the server's path).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field

from audiencesync.app.views import View

if TYPE_CHECKING:
    from audiencesync.profiles.catalog import Table
    from audiencesync.profiles.generator import GenerateReport
    from audiencesync.profiles.holds import Hold
    from audiencesync.profiles.importing import ImportReport
    from audiencesync.profiles.service import TableDetail


class ColumnView(View):
    """One column: its name, the kind conditions reason about, the engine's type."""

    name: str
    kind: str = Field(
        description="text, integer, number, boolean, date, timestamp or other"
    )
    type: str


class TableView(View):
    """A table of the profile engine: key, row count and columns."""

    name: str
    key: str | None
    rows: int | None
    columns: list[ColumnView]

    @classmethod
    def of(cls, table: Table) -> TableView:
        """The view of a catalog table."""
        return cls(**_table_fields(table))


class SourceView(View):
    """One file a table was imported from, in import order."""

    file: str = Field(description="The file's name (not its path).")
    mode: str = Field(description="replace, merge or append")
    key: str
    size: int


class HoldView(View):
    """A refresh the removal brake held: what it would do to its table."""

    table: str
    rows: int
    rows_after: int
    removed: int
    brake: float
    held_at: datetime

    @classmethod
    def of(cls, hold: Hold) -> HoldView:
        """The view of a held refresh."""
        return cls(
            table=hold.table,
            rows=hold.rows,
            rows_after=hold.new_rows,
            removed=hold.removed,
            brake=hold.brake,
            held_at=hold.held_at,
        )


class TableDetailView(TableView):
    """A table with where its rows came from and any held refresh."""

    imported_at: datetime | None
    sources: list[SourceView]
    held: HoldView | None

    @classmethod
    def of_detail(cls, detail: TableDetail) -> TableDetailView:
        """The view of a table and its imports."""
        info = detail.info
        sources = [
            SourceView(
                file=source.path.name,
                mode=source.mode.value,
                key=source.key,
                size=source.stamp.size,
            )
            for source in (info.sources if info else ())
        ]
        return cls(
            **_table_fields(detail.table),
            imported_at=info.imported_at if info else None,
            sources=sources,
            held=HoldView.of(detail.hold) if detail.hold else None,
        )


class ImportView(View):
    """What an import did: the table's rows now, what the file added or changed."""

    table: str
    mode: str = Field(description="created, replaced, merged or appended")
    rows: int
    rows_added: int
    rows_updated: int
    key: str
    columns: list[str]
    source: str

    @classmethod
    def of(cls, report: ImportReport) -> ImportView:
        """The view of an import report."""
        return cls(
            table=report.table,
            mode=report.mode.value,
            rows=report.rows,
            rows_added=report.rows_added,
            rows_updated=report.rows_updated,
            key=report.key,
            columns=list(report.columns),
            source=str(report.source),
        )


def _table_fields(table: Table) -> dict[str, Any]:
    return {
        "name": table.name,
        "key": table.key,
        "rows": table.rows,
        "columns": [
            ColumnView(name=col.name, kind=col.kind.value, type=col.sql_type)
            for col in table.columns
        ],
    }


class GeneratedFileView(View):
    """One file or table a generation wrote."""

    table: str
    path: str
    rows: int


class GenerateView(View):
    """What a generation of sample profiles wrote."""

    count: int
    seed: int
    anchor: date
    files: list[GeneratedFileView]

    @classmethod
    def of(cls, report: GenerateReport) -> GenerateView:
        """The view of a generation report."""
        return cls(
            count=report.count,
            seed=report.seed,
            anchor=report.anchor,
            files=[
                GeneratedFileView(table=file.table, path=str(file.path), rows=file.rows)
                for file in report.files
            ],
        )
