"""The segment service: save, list, show, preview, evaluate and delete segments.

Definitions are validated against the profile engine's catalog when they are saved,
and run once on the engine before anything is saved: a condition the engine
cannot evaluate (an invalid ESCAPE, a cast that fails on the data) is refused
with an EvaluationError. They are compiled again at every evaluation (the schema
may have changed since). Each evaluation that runs to the end records its member
count and duration, so counts have a history. The CLI, and later the REST API
and the scheduler, call only this.

Every method checks the acting user's role first (design section 6): everyone reads
segments and counts, administrators and contributors change them and see previews
(which show profile data). Each change writes one audit event with it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from audiencesync.auth.audit import record_event
from audiencesync.auth.roles import Action, Actor, check
from audiencesync.auth.users import admin_names
from audiencesync.errors import ConfigError, NotFoundError, RuleError, StaleEditError
from audiencesync.profiles.engine import FrameEngine, RelationEngine
from audiencesync.segments import records
from audiencesync.segments.names import name_key, normalize_name
from audiencesync.segments.records import EvaluationRecord, Preview, SegmentInfo
from audiencesync.segments.rules import (
    Definition,
    definition_to_json,
    describe,
    parse_rules,
)
from audiencesync.store.models import Segment, SegmentEvaluation

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from audiencesync.profiles.catalog import Catalog
    from audiencesync.profiles.duckdb_engine import DuckDBRelation
    from audiencesync.profiles.engine import ProfileEngine
    from audiencesync.segments.explain import Explanation
    from audiencesync.store.database import Database

HISTORY_LIMIT = 30
MAX_PREVIEW = 10_000


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Validation:
    """A definition checked without saving: its member count, or the RuleError."""

    member_count: int | None = None
    summary: str | None = None
    error: RuleError | None = None

    @property
    def valid(self) -> bool:
        """True when the definition compiles and the engine evaluates it."""
        return self.error is None


def definition_of(
    where: str | None, rules: object | None, *, required: bool
) -> Definition | None:
    """The definition given as an SQL condition or as decoded rules JSON.

    A RuleError names its input field (``where`` or ``rules``).
    """
    if where is not None and rules is not None:
        msg = "Give either a where condition or rules, not both."
        raise ConfigError(msg, code="invalid", field="where")
    if where is not None:
        with _field("where"):
            from audiencesync.segments.where import parse_where  # noqa: PLC0415

            return parse_where(where)
    if rules is not None:
        with _field("rules"):
            return parse_rules(rules)
    if required:
        msg = (
            "A segment needs a definition: a where condition (SQL) or rules"
            " (see docs/segments.md)."
        )
        raise ConfigError(msg, code="invalid", field="where")
    return None


def required_definition(where: str | None, rules: object | None) -> Definition:
    """The definition given; a ConfigError when there is none."""
    definition = definition_of(where, rules, required=True)
    if definition is None:  # pragma: no cover - required=True raises instead
        msg = "A segment needs a definition."
        raise ConfigError(msg, field="where")
    return definition


@contextmanager
def _field(name: str) -> Iterator[None]:
    """Name the input field of a RuleError raised in the block, if it has none."""
    try:
        yield
    except RuleError as exc:
        if exc.field is None:
            exc.field = name
        raise


def _definition_field(definition: Definition) -> str:
    return "where" if definition.kind == "where" else "rules"


class SegmentService:
    """Segments over one control-plane database and one profile engine."""

    def __init__(
        self,
        database: Database,
        engine: ProfileEngine,
        *,
        actor: Actor,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._database = database
        self._engine = engine
        self._actor = actor
        self._now = now

    def _require(self, action: Action) -> None:
        with self._database.session() as session:
            check(self._actor, action, admins=admin_names(session))

    # --- reading ---------------------------------------------------------

    def list_all(self) -> list[SegmentInfo]:
        """Every segment, by name, with its latest evaluation."""
        self._require(Action.READ)
        with self._database.session() as session:
            rows = session.scalars(select(Segment).order_by(Segment.name_key)).all()
            return records.infos(session, rows)

    def list_page(
        self, *, limit: int, offset: int = 0
    ) -> tuple[list[SegmentInfo], int]:
        """One page of segments by name, with their latest evaluations; and the total.

        A fixed number of queries, however many segments there are.
        """
        self._require(Action.READ)
        with self._database.session() as session:
            total = session.scalar(select(func.count()).select_from(Segment)) or 0
            rows = session.scalars(
                select(Segment)
                .order_by(Segment.name_key)
                .limit(max(limit, 0))
                .offset(max(offset, 0))
            ).all()
            return records.infos(session, rows), total

    def histories(
        self, names: Sequence[str], *, limit: int = HISTORY_LIMIT
    ) -> dict[str, list[EvaluationRecord]]:
        """The latest evaluations of each named segment, newest first, read at once.

        Keyed by each segment's own name; a name of no segment is left out, and
        a segment never evaluated has an empty list.
        """
        self._require(Action.READ)
        keys = {name_key(name) for name in names}
        if not keys:
            return {}
        with self._database.session() as session:
            found = session.execute(
                select(Segment.id, Segment.name).where(Segment.name_key.in_(keys))
            ).all()
            latest = records.latest_records(
                session, [row.id for row in found], limit=limit
            )
            return {row.name: latest.get(row.id, []) for row in found}

    def get(self, name: str) -> SegmentInfo:
        """One segment by name (exact, or differing only in case)."""
        self._require(Action.READ)
        with self._database.session() as session:
            return records.info(session, records.find(session, name))

    def history(
        self, name: str, *, limit: int = HISTORY_LIMIT
    ) -> list[EvaluationRecord]:
        """The latest evaluations of a segment, newest first."""
        self._require(Action.READ)
        with self._database.session() as session:
            segment = records.find(session, name)
            rows = session.scalars(
                select(SegmentEvaluation)
                .where(SegmentEvaluation.segment_id == segment.id)
                .order_by(
                    SegmentEvaluation.evaluated_at.desc(), SegmentEvaluation.id.desc()
                )
                .limit(limit)
            ).all()
            return [records.record(row) for row in rows]

    # --- writing ---------------------------------------------------------

    def create(
        self,
        name: str,
        definition: Definition,
        *,
        description: str | None = None,
    ) -> SegmentInfo:
        """Validate and save a new segment, then count its members once."""
        self._require(Action.EDIT_SEGMENTS)
        with _field("name"):
            clean = normalize_name(name)
        with self._database.session() as session:
            records.ensure_free(session, clean)
        with _field(_definition_field(definition)):
            members, started = self._trial(definition)
        with self._database.session() as session:
            records.ensure_free(session, clean)
            stamp = self._now()
            session.add(
                Segment(
                    name=clean,
                    name_key=name_key(clean),
                    description=records.clean_description(description),
                    kind=definition.kind,
                    definition=definition_to_json(definition),
                    created_at=stamp,
                    updated_at=stamp,
                    created_by=self._actor.name,
                )
            )
            record_event(
                session,
                self._actor,
                "segment.create",
                target_type="segment",
                target=clean,
                details={"kind": definition.kind},
            )
        self._record(clean, members, started)
        return self.get(clean)

    def update(
        self,
        name: str,
        *,
        new_name: str | None = None,
        definition: Definition | None = None,
        description: str | None = None,
        expected_revision: int | None = None,
    ) -> SegmentInfo:
        """Rename a segment, change its definition or its description.

        With ``expected_revision`` (the revision the editor read), an edit of a
        segment changed since is refused with StaleEditError.
        """
        self._require(Action.EDIT_SEGMENTS)
        if new_name is None and definition is None and description is None:
            msg = "Nothing to change: give a new name, a definition or a description."
            raise ConfigError(msg)
        trial = None
        if definition is not None:
            with _field(_definition_field(definition)):
                trial = self._trial(definition)
        with self._revised(name), self._database.session() as session:
            segment = records.find(session, name)
            _check_revision(segment.name, segment.revision, expected_revision)
            changes = records.changes(new_name, definition, description, segment.name)
            if new_name is not None:
                with _field("name"):
                    clean = normalize_name(new_name)
                if name_key(clean) != segment.name_key:
                    records.ensure_free(session, clean)
                segment.name, segment.name_key = clean, name_key(clean)
            if definition is not None:
                segment.kind = definition.kind
                segment.definition = definition_to_json(definition)
            if description is not None:
                segment.description = records.clean_description(description)
            segment.updated_at = self._now()
            final = segment.name
            record_event(
                session,
                self._actor,
                "segment.edit",
                target_type="segment",
                target=final,
                details=changes,
            )
        if trial is not None:
            self._record(final, *trial)
        return self.get(final)

    def delete(self, name: str, *, expected_revision: int | None = None) -> None:
        """Remove a segment and its evaluation history (not while exports use it)."""
        self._require(Action.EDIT_SEGMENTS)
        with self._revised(name), self._database.session() as session:
            segment = records.find(session, name)
            _check_revision(segment.name, segment.revision, expected_revision)
            records.ensure_unused(session, segment)
            record_event(
                session,
                self._actor,
                "segment.delete",
                target_type="segment",
                target=segment.name,
            )
            session.delete(segment)

    def validate(self, where: str | None, rules: object | None) -> Validation:
        """Check a definition and count its members now; nothing is saved.

        An invalid definition is not raised but returned, with its field.
        """
        self._require(Action.EDIT_SEGMENTS)
        try:
            definition = required_definition(where, rules)
            with _field(_definition_field(definition)):
                members, _ = self._trial(definition)
        except RuleError as exc:
            return Validation(error=exc)
        return Validation(member_count=members, summary=describe(definition))

    # --- evaluating ------------------------------------------------------

    def explain(self, name: str, key: str) -> Explanation:
        """Why the profile whose key is ``key`` is in or out of segment ``name``.

        Shows profile data (a profile's results), so only roles that see
        profiles may ask; an unknown key is a NotFoundError without the key.
        """
        from audiencesync.segments.explain import explain  # noqa: PLC0415 - see members_query

        self._require(Action.VIEW_PROFILES)
        info = self.get(name)
        return explain(
            self._engine,
            self._catalog(),
            info.name,
            info.definition,
            key,
            today=self._today(),
        )

    def count(self, name: str, *, record: bool = True) -> int:
        """Count the members now and (unless ``record`` is off) record it."""
        info = self.get(name)
        started = time.perf_counter()
        try:
            query = members_query(info.definition, self._catalog(), today=self._today())
            members = self._engine.count(query)
        except RuleError as exc:
            if record:
                self._record(info.name, None, started, error=str(exc))
            raise
        if record:
            self._record(info.name, members, started)
        return members

    def preview(
        self,
        name: str,
        *,
        limit: int = 100,
        columns: Sequence[str] | None = None,
        record: bool = True,
    ) -> Preview:
        """The first ``limit`` members (key plus columns) and the member count.

        The count is recorded in the counts history unless ``record`` is off (a
        page that shows the preview at every visit leaves the history alone).
        """
        if not 1 <= limit <= MAX_PREVIEW:
            msg = (
                f"The preview limit {limit} is out of range: use 1 to {MAX_PREVIEW:,}."
            )
            raise RuleError(msg, field="limit")
        self._require(Action.VIEW_PROFILES)
        info = self.get(name)
        shown = self._preview_columns(info.definition, columns)
        query = members_query(
            info.definition, self._catalog(), columns=shown, today=self._today()
        )
        import pyarrow as pa  # noqa: PLC0415 - a run needs no preview

        batches = list(self._engine.stream(query.limit(limit), batch_rows=limit))
        members = pa.Table.from_batches(batches) if batches else _empty(query)
        count = self.count(info.name, record=record)
        return Preview(info.name, count, members.slice(0, limit))

    def evaluate(self, name: str, *, columns: Sequence[str] = ()) -> Evaluation:
        """Stream the members (key first, then ``columns``) as record batches."""
        info = self.get(name)
        query = members_query(
            info.definition, self._catalog(), columns=columns, today=self._today()
        )
        return Evaluation(self, info.name, self._engine.stream(query))

    def fingerprint(self, name: str, *, columns: Sequence[str] = ()) -> str | None:
        """A digest of all :meth:`evaluate` would read now; None when unknowable.

        It covers the segment's stored definition, the columns asked for, the
        day relative dates count from, the engine's dialect and its data
        version. Equal digests mean equal members; an engine that cannot tell
        whether its data changed gives None.
        """
        self._require(Action.READ)
        version = self._engine.version()
        if version is None:
            return None
        with self._database.session() as session:
            segment = records.find(session, name)
            parts = [segment.kind, segment.definition, segment.revision]
        parts += [list(columns), self._today().isoformat(), self._engine.dialect]
        text = orjson.dumps([*parts, version], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(text).hexdigest()

    def record_count(
        self, name: str, members: int, *, started: float | None = None
    ) -> None:
        """Record ``members`` as the segment's count now, counted without evaluate.

        A run whose plan inputs did not change (equal :meth:`fingerprint`), or
        one that counted the members where they live (:meth:`frame`,
        :meth:`relation`), calls this, so the segment's history still shows its
        count at every run. ``started`` (``time.perf_counter()``) is when the
        counting began, for the entry's duration; without it, none is shown.
        """
        self._require(Action.READ)
        self._record(name, members, time.perf_counter() if started is None else started)

    def frame(
        self, name: str, *, columns: Sequence[str] = (), state_rows: int = 0
    ) -> Any | None:
        """The members as a Spark DataFrame, when planning is cheaper there.

        That is when the members live on Spark and the sync state the run
        compares them with holds at least the engine's ``plan_from`` people; the
        run then plans where the members are (:mod:`audiencesync.sync.spark_plan`).
        Otherwise None.
        """
        engine = self._engine
        if not isinstance(engine, FrameEngine) or state_rows < engine.plan_from:
            return None
        info = self.get(name)
        query = members_query(
            info.definition, self._catalog(), columns=columns, today=self._today()
        )
        return engine.frame(query)

    def relation(
        self, name: str, *, columns: Sequence[str] = ()
    ) -> DuckDBRelation | None:
        """The members as a query a plan's own DuckDB database runs; None elsewhere.

        Only when the profiles are in the embedded DuckDB engine. The caller
        records the count it finds (:meth:`record_count`), as :meth:`evaluate`
        does once streamed.
        """
        engine = self._engine
        if not isinstance(engine, RelationEngine):
            return None
        info = self.get(name)
        query = members_query(
            info.definition, self._catalog(), columns=columns, today=self._today()
        )
        return engine.relation(query)

    # --- internals -------------------------------------------------------

    def _trial(self, definition: Definition) -> tuple[int, float]:
        """The member count of ``definition`` now, and when counting started.

        Compiling it checks it against the catalog; counting runs it on all the
        data, so a condition the engine cannot evaluate is refused before it is
        saved (RuleError / EvaluationError), never found by a scheduled run.
        The count is the one saving records anyway: checking costs nothing more.
        """
        started = time.perf_counter()
        try:
            query = members_query(definition, self._catalog(), today=self._today())
        except RuleError as exc:
            exc.field = exc.field or definition.kind  # "where" or "rules"
            raise
        return self._engine.count(query), started

    def _catalog(self) -> Catalog:
        catalog = self._engine.catalog()
        if catalog.profile is None and self._engine.dialect != "duckdb":
            msg = (
                f"The profile engine (AUDIENCESYNC_PROFILES_URL) has no table"
                f" {catalog.profile_table!r}. Set AUDIENCESYNC_PROFILE_TABLE to the"
                " name of the table that holds the profiles."
            )
            raise NotFoundError(
                msg,
                code="no_external_profile_table",
                details={"table": catalog.profile_table},
            )
        if catalog.profile is None:
            msg = (
                f"There is no profile table {catalog.profile_table!r} yet. Import"
                " profiles (or make a sample) first."
            )
            raise NotFoundError(
                msg,
                code="no_profile_table",
                details={"table": catalog.profile_table},
            )
        return catalog

    @contextmanager
    def _revised(self, name: str) -> Iterator[None]:
        """A concurrent edit that won the race is a StaleEditError, too."""
        try:
            yield
        except StaleDataError as exc:
            raise _stale(name) from exc

    def _today(self) -> date:
        return self._now().date()

    def _preview_columns(
        self, definition: Definition, columns: Sequence[str] | None
    ) -> list[str]:
        if columns is not None:
            return list(dict.fromkeys(columns))
        profile = self._catalog().profile
        key = profile.key if profile else None
        from audiencesync.segments.references import referenced_columns  # noqa: PLC0415

        return [col for col in referenced_columns(definition) if col != key]

    def _record(
        self,
        name: str,
        members: int | None,
        started: float,
        *,
        error: str | None = None,
    ) -> None:
        with self._database.session() as session:
            segment = records.find(session, name)
            session.add(
                SegmentEvaluation(
                    segment_id=segment.id,
                    evaluated_at=self._now(),
                    member_count=members,
                    duration_ms=round((time.perf_counter() - started) * 1000),
                    engine=self._engine.dialect,
                    error=error,
                )
            )


class Evaluation:
    """Members of one segment as record batches, counted as they stream.

    The count is recorded in the history once the stream has been read to the
    end; a consumer that stops early records nothing.
    """

    def __init__(
        self,
        service: SegmentService,
        segment: str,
        batches: Iterator[pa.RecordBatch],
    ) -> None:
        self.segment = segment
        self.member_count = 0
        self._service = service
        self._batches = batches
        self._started = time.perf_counter()

    def __iter__(self) -> Generator[pa.RecordBatch]:
        for batch in self._batches:
            self.member_count += batch.num_rows
            yield batch
        self._service._record(self.segment, self.member_count, self._started)


def _check_revision(name: str, current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise _stale(name, current)


def _stale(name: str, current: int | None = None) -> StaleEditError:
    msg = (
        f"Segment {name!r} was changed since it was read; read it again and"
        " redo the edit on the current version."
    )
    details: dict[str, object] = {"segment": name}
    if current is not None:
        details["revision"] = current
    return StaleEditError(msg, details=details)


def members_query(
    defn: Definition, catalog: Catalog, *, columns: Sequence[str] = (), today: date
) -> exp.Select:
    """The segment's members query (:func:`.compiler.members_query`), compiled here.

    The compiler, like every module that parses or writes SQL, needs sqlglot
    (about 0.1 s to import): a command that reads segments without evaluating
    one (a run with nothing new to send) never loads it.
    """
    from audiencesync.segments.compiler import (  # noqa: PLC0415
        members_query as compiled,
    )

    return compiled(defn, catalog, columns=columns, today=today)


def _empty(query: exp.Select) -> pa.Table:
    import pyarrow as pa  # noqa: PLC0415 - a run needs no preview

    return pa.table({name: pa.array([], pa.null()) for name in query.named_selects})


__all__ = [
    "Evaluation",
    "EvaluationRecord",
    "Preview",
    "SegmentInfo",
    "SegmentService",
    "Validation",
    "definition_of",
    "required_definition",
]
