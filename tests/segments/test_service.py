"""The segment service: saving, counting, previewing and streaming members."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy

from audiencesync.app.home import initialize
from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.auth.roles import Actor, Role
from audiencesync.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    RuleError,
)
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.references import referenced_columns
from audiencesync.segments.rules import parse_rules, parse_where
from audiencesync.segments.service import SegmentService
from audiencesync.settings import Settings, load_settings
from audiencesync.store import AuditEvent, Export, ExportSegment, Segment
from audiencesync.store.runs import Binding

CUSTOMERS = """customer_id,email,country,lifetime_value,signup_date
C1,ana@example.com,FR,1500.50,2026-01-10
C2,ben@example.com,FR,200,2025-05-01
C3,cleo@example.com,DE,3000,2026-02-01
C4,dan@example.com,FR,1200,2024-12-24
C5,eve@example.com,US,50,2026-03-03
"""

FRENCH_VIP = "country = 'FR' AND lifetime_value > 1000"
ADMIN = Actor("admin", Role.ADMIN)


class Clock:
    """A settable clock for evaluation timestamps."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, minutes: int) -> None:
        self.moment += timedelta(minutes=minutes)


def _settings(tmp_path: Path, database_url: str | None = None) -> Settings:
    settings = load_settings(home=tmp_path / "home", database_url=database_url)
    initialize(settings)
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    import_profiles(settings, source)
    return settings


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """An initialised data folder with five imported customers."""
    with open_workspace(_settings(tmp_path)) as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    """Evaluation time, moved by the tests."""
    return Clock()


@pytest.fixture
def service(workspace: Workspace, clock: Clock) -> SegmentService:
    """The service over the workspace, on the test clock."""
    return SegmentService(workspace.database, workspace.engine, actor=ADMIN, now=clock)


def _keys(service: SegmentService, name: str) -> set[str]:
    evaluation = service.evaluate(name)
    return {str(key) for batch in evaluation for key in batch.column(0).to_pylist()}


def test_create_counts_members_once(service: SegmentService) -> None:
    """A new segment is evaluated on save, so list shows its count straight away."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    [info] = service.list_all()
    assert (info.name, info.member_count) == ("France VIP", 2)
    assert info.evaluated_at == datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


def test_name_is_trimmed_and_kept_exactly(service: SegmentService) -> None:
    """Surrounding spaces go; everything else (case, punctuation) stays."""
    info = service.create("  France: VIP (€1000+)  ", parse_where(FRENCH_VIP))
    assert info.name == "France: VIP (€1000+)"


def test_names_differing_only_in_case_clash(service: SegmentService) -> None:
    """Two lists named VIP and vip would confuse everyone: the second is refused."""
    service.create("VIP", parse_where(FRENCH_VIP))
    with pytest.raises(ConflictError, match=r"'vip' already exists \('VIP' differs"):
        service.create("vip", parse_where("country = 'DE'"))


def test_unknown_column_saves_nothing(service: SegmentService) -> None:
    """A definition that does not fit the profiles is refused and not stored."""
    with pytest.raises(RuleError, match='Did you mean "country"'):
        service.create("Typo", parse_where("contry = 'FR'"))
    assert service.list_all() == []


def test_segments_need_a_profile_table(tmp_path: Path) -> None:
    """Before any import, creating a segment says how to get profiles."""
    settings = load_settings(home=tmp_path / "empty")
    initialize(settings)
    with open_workspace(settings) as opened:
        expected = r"no profile table 'customers' yet\. Import profiles"
        with pytest.raises(NotFoundError, match=expected) as caught:
            opened.segments.create("Any", parse_where(FRENCH_VIP))
    assert caught.value.code == "no_profile_table"


def test_an_external_engine_without_the_profile_table_names_the_setting(
    tmp_path: Path, postgres_url: str
) -> None:
    """With profiles in a database, the fix is the table's name, not an import."""
    settings = load_settings(home=tmp_path / "home", profiles_url=postgres_url)
    initialize(settings)
    expected = "AUDIENCESYNC_PROFILE_TABLE"
    with (
        open_workspace(settings) as opened,
        pytest.raises(NotFoundError, match=expected) as caught,
    ):
        opened.segments.create("Any", parse_where(FRENCH_VIP))
    assert caught.value.code == "no_external_profile_table"


def test_unknown_segment_suggests_close_names(service: SegmentService) -> None:
    """A misspelt name gets the closest existing names."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    with pytest.raises(NotFoundError, match=r"Did you mean 'France VIP'\?"):
        service.get("France VPI")


def test_lookup_ignores_case(service: SegmentService) -> None:
    """``show france vip`` finds "France VIP"."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    assert service.get("france vip").name == "France VIP"


def test_evaluate_streams_keys_and_requested_columns(service: SegmentService) -> None:
    """Members arrive as record batches: key first, then the asked-for columns."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    batches = list(service.evaluate("France VIP", columns=["email"]))
    assert all(isinstance(batch, pa.RecordBatch) for batch in batches)
    table = pa.Table.from_batches(batches)
    assert table.column_names == ["customer_id", "email"]
    assert sorted(map(str, table.column("customer_id").to_pylist())) == ["C1", "C4"]


def test_full_evaluation_is_recorded(service: SegmentService, clock: Clock) -> None:
    """Reading the stream to the end adds its count to the history."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    clock.advance(60)
    assert _keys(service, "France VIP") == {"C1", "C4"}
    history = service.history("France VIP")
    assert [record.member_count for record in history] == [2, 2]
    assert history[0].evaluated_at == clock.moment
    assert history[0].engine == "duckdb"


def test_abandoned_evaluation_is_not_recorded(service: SegmentService) -> None:
    """A consumer that stops early records no (wrong) count."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    stream = iter(service.evaluate("France VIP"))
    next(stream)
    stream.close()
    assert len(service.history("France VIP")) == 1


def test_preview_shows_used_columns_and_count(service: SegmentService) -> None:
    """Preview returns the first members with the columns the rule reads."""
    rules = parse_rules({"field": "country", "op": "=", "value": "FR"})
    service.create("French", rules)
    preview = service.preview("French", limit=2)
    assert preview.member_count == 3
    assert preview.members.num_rows == 2
    assert preview.members.column_names == ["customer_id", "country"]


def test_preview_with_chosen_columns(service: SegmentService) -> None:
    """``--column`` picks what the preview shows."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    preview = service.preview("France VIP", columns=["email", "signup_date"])
    assert preview.members.column_names == ["customer_id", "email", "signup_date"]


def test_preview_of_an_empty_segment(service: SegmentService) -> None:
    """A segment with no members previews as an empty table and a zero count."""
    service.create("Nobody", parse_where("lifetime_value > 1000000"))
    preview = service.preview("Nobody")
    assert (preview.member_count, preview.members.num_rows) == (0, 0)


@pytest.mark.parametrize("limit", [0, 10_001])
def test_preview_limit_is_bounded(service: SegmentService, limit: int) -> None:
    """The preview limit must be between 1 and 10,000."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    with pytest.raises(RuleError, match=f"The preview limit {limit} is out of range"):
        service.preview("France VIP", limit=limit)


def test_rename_keeps_history(service: SegmentService) -> None:
    """A renamed segment is the same segment (its list keeps its identity later)."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    info = service.update("France VIP", new_name="VIP France")
    assert info.name == "VIP France"
    assert len(service.history("VIP France")) == 1


def test_rename_onto_another_segment_is_refused(service: SegmentService) -> None:
    """Renaming may not take another segment's name."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    service.create("Germany", parse_where("country = 'DE'"))
    with pytest.raises(ConflictError, match="'germany' already exists"):
        service.update("France VIP", new_name="germany")


def test_changing_case_of_own_name_is_allowed(service: SegmentService) -> None:
    """Renaming "vip" to "VIP" is not a clash with itself."""
    service.create("vip", parse_where(FRENCH_VIP))
    assert service.update("vip", new_name="VIP").name == "VIP"


def test_new_definition_is_counted(service: SegmentService) -> None:
    """Changing the definition records a fresh count."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    info = service.update("France VIP", definition=parse_where("country = 'FR'"))
    assert info.member_count == 3
    assert info.summary == "where country = 'FR'"


def test_description_is_trimmed_and_clearable(service: SegmentService) -> None:
    """An empty description clears it."""
    service.create("France VIP", parse_where(FRENCH_VIP), description="  Top  ")
    assert service.get("France VIP").description == "Top"
    assert service.update("France VIP", description=" ").description is None


def test_delete_removes_segment_and_history(service: SegmentService) -> None:
    """A deleted segment is gone and its name is free again."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    service.delete("France VIP")
    assert service.list_all() == []
    service.create("France VIP", parse_where(FRENCH_VIP))
    assert len(service.history("France VIP")) == 1


def test_schema_change_is_recorded_as_failed_evaluation(
    tmp_path: Path, clock: Clock
) -> None:
    """When a column a segment uses disappears, its next count fails, on record."""
    settings = _settings(tmp_path)
    with open_workspace(settings) as opened:
        service = SegmentService(opened.database, opened.engine, actor=ADMIN, now=clock)
        service.create("France VIP", parse_where(FRENCH_VIP))
    other = tmp_path / "narrow.csv"
    other.write_text("customer_id,email\nC1,a@example.com\n", encoding="utf-8")
    import_profiles(settings, other, replace=True)
    with open_workspace(settings) as opened:
        service = SegmentService(opened.database, opened.engine, actor=ADMIN, now=clock)
        with pytest.raises(RuleError, match="country"):
            service.count("France VIP")
        latest = service.history("France VIP")[0]
    assert latest.member_count is None
    assert latest.error is not None


def test_service_on_a_postgresql_control_plane(
    tmp_path: Path, postgres_url: str
) -> None:
    """Segments and their history live in PostgreSQL just as in SQLite."""
    with open_workspace(_settings(tmp_path, postgres_url)) as opened:
        opened.segments.create("France VIP", parse_where(FRENCH_VIP))
        [info] = opened.segments.list_all()
    assert info.member_count == 2


def test_referenced_columns_walk_groups_in_order() -> None:
    """Preview columns come from every condition, first use first, not from exists."""
    rules = parse_rules(
        {
            "all": [
                {"field": "country", "op": "=", "value": "FR"},
                {"not": {"field": "email", "op": "is_empty"}},
                {"any": [{"field": "country", "op": "=", "value": "DE"}]},
                {"exists": {"table": "purchases"}},
            ]
        }
    )
    assert referenced_columns(rules) == ["country", "email"]


def test_referenced_columns_of_a_where_condition() -> None:
    """Columns of a SQL condition, outside its subqueries."""
    where = parse_where(
        "lifetime_value > 10 AND customer_id IN (SELECT customer_id FROM purchases)"
    )
    assert referenced_columns(where) == ["lifetime_value", "customer_id"]


def test_segments_over_profiles_in_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    """With AUDIENCESYNC_PROFILES_URL, the same segments run in PostgreSQL."""
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "CREATE TABLE customers (customer_id TEXT PRIMARY KEY, email TEXT,"
                " country TEXT, lifetime_value NUMERIC(10, 2))"
            )
        )
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO customers VALUES ('C1', 'a@example.com', 'FR', 1500),"
                " ('C2', 'b@example.com', 'FR', 20),"
                " ('C3', 'c@example.com', 'DE', 2000)"
            )
        )
    engine.dispose()
    settings = load_settings(home=tmp_path / "home", profiles_url=postgres_url)
    initialize(settings)
    with open_workspace(settings) as opened:
        opened.segments.create("France VIP", parse_where(FRENCH_VIP))
        members = pa.Table.from_batches(
            list(opened.segments.evaluate("France VIP", columns=["email"]))
        )
        [info] = opened.segments.list_all()
    assert members.column("customer_id").to_pylist() == ["C1"]
    assert info.last is not None
    assert info.last.engine == "postgres"


def _as(workspace: Workspace, clock: Clock, role: Role) -> SegmentService:
    actor = Actor(f"a-{role.value}", role)
    return SegmentService(workspace.database, workspace.engine, actor=actor, now=clock)


def _audit_count(workspace: Workspace) -> int:
    with workspace.database.session() as session:
        return len(session.scalars(sqlalchemy.select(AuditEvent)).all())


def test_viewers_read_but_cannot_change(workspace: Workspace, clock: Clock) -> None:
    """A viewer lists segments; creating one is refused with whom to ask."""
    _as(workspace, clock, Role.ADMIN).create("France VIP", parse_where(FRENCH_VIP))
    viewer = _as(workspace, clock, Role.VIEWER)
    assert [info.name for info in viewer.list_all()] == ["France VIP"]
    expected = "a-viewer is a viewer and cannot create, edit or delete segments"
    with pytest.raises(AccessDeniedError, match=expected):
        viewer.create("Germany", parse_where("country = 'DE'"))


def test_viewers_cannot_preview_profile_data(
    workspace: Workspace, clock: Clock
) -> None:
    """Previews show profile values, so viewers get counts only."""
    _as(workspace, clock, Role.ADMIN).create("France VIP", parse_where(FRENCH_VIP))
    with pytest.raises(AccessDeniedError, match="cannot see profile data"):
        _as(workspace, clock, Role.VIEWER).preview("France VIP")


def test_each_change_writes_one_audit_event(workspace: Workspace, clock: Clock) -> None:
    """Create, edit and delete: one audit event each; reads and counts none."""
    contributor = _as(workspace, clock, Role.CONTRIBUTOR)
    contributor.create("France VIP", parse_where(FRENCH_VIP))
    contributor.update("France VIP", new_name="VIP")
    contributor.count("VIP")
    contributor.list_all()
    contributor.delete("VIP")
    with workspace.database.session() as session:
        events = session.scalars(
            sqlalchemy.select(AuditEvent)
            .where(AuditEvent.target_type == "segment")
            .order_by(AuditEvent.id)
        ).all()
        assert [(e.actor, e.action, e.target) for e in events] == [
            ("a-contributor", "segment.create", "France VIP"),
            ("a-contributor", "segment.edit", "VIP"),
            ("a-contributor", "segment.delete", "VIP"),
        ]
        assert events[1].details == {"renamed_from": "France VIP"}


def test_refused_change_writes_no_audit_event(
    workspace: Workspace, clock: Clock
) -> None:
    """A refused change leaves the audit log as it was."""
    before = _audit_count(workspace)
    with pytest.raises(AccessDeniedError):
        _as(workspace, clock, Role.VIEWER).create("X", parse_where(FRENCH_VIP))
    assert _audit_count(workspace) == before


def test_exported_segment_cannot_be_deleted(workspace: Workspace, clock: Clock) -> None:
    """Deleting a segment an export uses is refused, naming the export."""
    admin = _as(workspace, clock, Role.ADMIN)
    admin.create("France VIP", parse_where(FRENCH_VIP))
    with workspace.database.session() as session:
        segment = session.scalars(sqlalchemy.select(Segment)).one()
        export = Export(name="Newsletter", name_key="newsletter", email_field="email")
        export.segment_links.append(ExportSegment(segment_id=segment.id, position=0))
        session.add(export)
    with pytest.raises(ConflictError, match="exported by 'Newsletter'"):
        admin.delete("France VIP")
    assert [info.name for info in admin.list_all()] == ["France VIP"]


def test_synced_segment_cannot_be_deleted(workspace: Workspace, clock: Clock) -> None:
    """A segment with sync history (a binding) is refused with the reason, no crash."""
    admin = _as(workspace, clock, Role.ADMIN)
    admin.create("France VIP", parse_where(FRENCH_VIP))
    with workspace.database.session() as session:
        segment = session.scalars(sqlalchemy.select(Segment)).one()
        export = Export(name="Newsletter", name_key="newsletter", email_field="email")
        session.add(export)
        session.flush()
        session.add(Binding(export_id=export.id, segment_id=segment.id, list_name="x"))
    with pytest.raises(ConflictError, match="was sent to Iterable by 'Newsletter'"):
        admin.delete("France VIP")


def test_fingerprint_is_stable_while_nothing_changes(service: SegmentService) -> None:
    """Two fingerprints of an untouched segment on the same day are equal."""
    service.create("France VIP", parse_where(FRENCH_VIP))

    first = service.fingerprint("France VIP", columns=["email"])

    assert service.fingerprint("France VIP", columns=["email"]) == first


def test_fingerprint_changes_with_the_definition(service: SegmentService) -> None:
    """A new definition reads other members: another fingerprint."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    before = service.fingerprint("France VIP")

    service.update("France VIP", definition=parse_where("country = 'FR'"))

    assert service.fingerprint("France VIP") != before


def test_fingerprint_changes_with_the_columns(service: SegmentService) -> None:
    """Other columns read make other rows."""
    service.create("France VIP", parse_where(FRENCH_VIP))

    with_email = service.fingerprint("France VIP", columns=["email"])

    assert service.fingerprint("France VIP", columns=["country"]) != with_email


def test_fingerprint_changes_with_the_day(
    service: SegmentService, clock: Clock
) -> None:
    """Relative dates count from today, so a new day is a new fingerprint."""
    service.create("Recent", parse_where("signup_date >= current_date - 30"))
    before = service.fingerprint("Recent")

    clock.advance(minutes=24 * 60)

    assert service.fingerprint("Recent") != before


def test_fingerprint_changes_with_the_profiles(
    service: SegmentService, workspace: Workspace, tmp_path: Path
) -> None:
    """An import replaces the table's file: another fingerprint."""
    service.create("France VIP", parse_where(FRENCH_VIP))
    before = service.fingerprint("France VIP")
    source = tmp_path / "more.csv"
    source.write_text(CUSTOMERS + "C6,fay@example.com,FR,5000,2026-04-04\n")

    import_profiles(workspace.settings, source)

    assert service.fingerprint("France VIP") != before


def test_record_count_adds_a_history_entry(service: SegmentService) -> None:
    """A count known without evaluating still shows in the segment's history."""
    service.create("France VIP", parse_where(FRENCH_VIP))

    service.record_count("France VIP", 2)

    newest = service.history("France VIP")[0]
    assert (newest.member_count, len(service.history("France VIP"))) == (2, 2)
