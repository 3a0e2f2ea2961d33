"""Segment evaluation and fresh-export planning on DuckDB, PostgreSQL and Spark.

One invocation, one machine, the same profiles on each engine (design section 9):

1. Set-up (not timed as a figure): N generated profiles with messy emails (the
   export benchmarks' generator: about 3 % invalid, 1 % duplicates, mixed case,
   0.5 % missing) imported into a fresh data folder, the embedded store's layout
   (``home/profiles/customers.parquet``), and two segments saved: a rule
   (``country = 'FR' OR lifetime_value > 100``, about half the profiles) and
   everyone.
2. Each engine in turn, through the product's service layer as a command meets it
   (``open_workspace`` with ``profiles_url`` set, then ``workspace.segments``):

   * ``duckdb``: the embedded engine over the Parquet folder (no URL);
   * ``postgres``: the same rows loaded with ``COPY`` (Parquet → CSV in memory)
     into a fresh schema of ``--postgres-url`` (a primary key on the profile key,
     ``ANALYZE``d), dropped at the end; the load time is printed, not a figure;
   * ``spark``: Spark in this process (``spark+local://?tables=FOLDER&cores=N``,
     N = this machine's CPUs) over the same Parquet folder.

   Timed: start-up (opening the workspace: the engine, and for Spark the session
   and its JVM), the first catalog read, each segment's count, each segment's
   evaluation (its members streamed to the end with the columns an export reads),
   and each segment's fresh-export planning (``plan_binding`` over a new
   evaluation's stream, no sync state: classify, diff, number the batches, write
   ``plan.parquet``), with the part of it spent reading members from the engine;
   on Spark also the same plan made in Spark (:mod:`audiencesync.sync.spark_plan`:
   classified and diffed there, only the rows to send and the rejects come back),
   which is how runs plan there.
   Peak RSS: this process's high-water mark, reset before each engine
   (``/proc/self/clear_refs``), beside what the process already held then (the
   set-up's leftovers); for Spark also the JVM's. PostgreSQL's server processes
   are not counted.
3. Checks, loudly: on each engine the count, the evaluation and the plan agree;
   across engines the member counts, the plan summaries and a hash of every plan
   row (batch, action, email, key, request body) and every rejected row are
   identical, the plan made in Spark included.

Prints the figures, then one JSON line. No email and no key is ever printed.

    .venv/bin/python -m benchmarks.engines [--profiles 1000000] \
        [--engines duckdb,postgres,spark] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from audiencesync.app.home import initialize
from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.profiles.identifiers import quote_identifier, quote_literal
from audiencesync.profiles.service import import_profiles
from audiencesync.profiles.tables import read_table_info, table_path
from audiencesync.segments.where import parse_where
from audiencesync.settings import Settings, load_settings
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import INVALID_FILE, PLAN_FILE, PlanSummary, plan_binding
from audiencesync.sync.spark_plan import SparkMembers, unpushable
from benchmarks.export_harness import check, write_messy_profiles

ENGINES = ("duckdb", "postgres", "spark")
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RULE = "France or lifetime value over 100"
EVERYONE = "Everyone"
SEGMENTS = {
    RULE: "country = 'FR' OR lifetime_value > 100",
    EVERYONE: "customer_id IS NOT NULL",
}
MAPPING = ExportMapping(email_field="email")
COPY_ROWS = 100_000
_PG_TYPES = {
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.float64(): "DOUBLE PRECISION",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
}


# --- the machine and its memory ------------------------------------------------


def _reset_peak_rss() -> bool:
    """Start this process's VmHWM afresh (Linux ``clear_refs`` 5); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_mb(name: str, pid: int | str = "self") -> float | None:
    """A memory line of ``/proc/PID/status`` (``VmHWM``, ``VmRSS``) in MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) / 1024
    return None


def _jvm_pids() -> list[int]:
    """The ``java`` processes descended from this one (Spark's JVM)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # "pid (comm) state ppid ...": comm may hold spaces, so split after ")"
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], list(parents.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, []))
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip() == "java":
                found.append(pid)
    return found


# --- the data ----------------------------------------------------------------


def _prepare_store(settings: Settings, folder: Path, count: int) -> Path:
    """Messy profiles in the embedded store and the two segments; the table file."""
    started = time.perf_counter()
    initialize(settings)
    source = folder / "profiles.parquet"
    write_messy_profiles(source, count=count)
    import_profiles(settings, source)
    source.unlink()
    with open_workspace(settings) as workspace:
        for name, where in SEGMENTS.items():
            workspace.segments.create(name, parse_where(where))
    print(
        f"set-up (not a figure): {count:,} messy profiles generated, imported into the"
        f" embedded store, 2 segments saved: {time.perf_counter() - started:.1f} s"
    )
    return table_path(settings.profiles_folder, settings.profile_table)


def _create_table_sql(schema: str, name: str, arrow: pa.Schema) -> str:
    columns = []
    for column in arrow:
        if column.type not in _PG_TYPES:
            msg = f"no PostgreSQL type for column {column.name!r} ({column.type})"
            raise RuntimeError(msg)
        columns.append(f"{quote_identifier(column.name)} {_PG_TYPES[column.type]}")
    target = f"{quote_identifier(schema)}.{quote_identifier(name)}"
    return f"CREATE TABLE {target} ({', '.join(columns)})"


def _copy_rows(connection: sa.Connection, target: str, table: Path) -> None:
    """``COPY target FROM STDIN`` with the table file as CSV, 100,000 rows at a time.

    pyarrow quotes every string and writes NULL as nothing, which PostgreSQL's
    CSV format reads back as the empty string and NULL respectively.
    """
    options = pa_csv.WriteOptions(include_header=False)
    driver: Any = connection.connection.driver_connection  # a psycopg connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {target} FROM STDIN (FORMAT csv)") as copy,
    ):
        for batch in pq.ParquetFile(table).iter_batches(batch_size=COPY_ROWS):
            buffer = pa.BufferOutputStream()
            pa_csv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue().to_pybytes())


@contextlib.contextmanager
def postgres_profiles(server_url: str, table: Path, *, name: str) -> Iterator[str]:
    """The profile table in a fresh schema of ``server_url``; its URL. Dropped after."""
    schema = f"as_bench_{secrets.token_hex(6)}"
    engine = sa.create_engine(server_url, poolclass=NullPool)
    key = read_table_info(table.parent, name).key
    target = f"{quote_identifier(schema)}.{quote_identifier(name)}"
    started = time.perf_counter()
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {quote_identifier(schema)}")
            arrow = pq.read_schema(table)
            connection.exec_driver_sql(_create_table_sql(schema, name, arrow))
            _copy_rows(connection, target, table)
            if key is not None:
                primary = f"PRIMARY KEY ({quote_identifier(key)})"
                connection.exec_driver_sql(f"ALTER TABLE {target} ADD {primary}")
            connection.exec_driver_sql(f"ANALYZE {target}")
        print(
            f"  load (not a figure): COPY into a fresh schema, primary key, ANALYZE:"
            f" {time.perf_counter() - started:.1f} s"
        )
        search_path = {"options": f"-csearch_path={schema}"}
        yield engine.url.update_query_dict(search_path).render_as_string(
            hide_password=False
        )
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                f"DROP SCHEMA IF EXISTS {quote_identifier(schema)} CASCADE"
            )
        engine.dispose()


def spark_url(folder: Path) -> str:
    """Spark in this process on every CPU, over the store's Parquet folder."""
    query = urlencode({"tables": str(folder.resolve()), "cores": os.cpu_count() or 1})
    return f"spark+local://?{query}"


@contextlib.contextmanager
def profiles_url(
    engine: str, settings: Settings, table: Path, *, postgres: str
) -> Iterator[str | None]:
    """The ``profiles_url`` that makes the product use ``engine``."""
    if engine == "postgres":
        with postgres_profiles(postgres, table, name=settings.profile_table) as url:
            yield url
    elif engine == "spark":
        yield spark_url(settings.profiles_folder)
    else:
        yield None


# --- measuring -----------------------------------------------------------------


class _TimedStream:
    """Batches of ``batches``, adding the seconds spent waiting for each."""

    def __init__(self, batches: Iterable[pa.RecordBatch]) -> None:
        self._batches = iter(batches)
        self.seconds = 0.0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self

    def __next__(self) -> pa.RecordBatch:
        started = time.perf_counter()
        try:
            return next(self._batches)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass
class SegmentFigures:
    """One segment on one engine."""

    count_s: float = 0.0
    counted: int = 0
    evaluate_s: float = 0.0
    streamed: int = 0
    plan_s: float = 0.0
    plan_reading_s: float = 0.0
    plan: PlanSummary | None = None
    plan_hash: tuple[Any, ...] = ()
    pushed_s: float | None = None  # planned where the members are (Spark)
    pushed: PlanSummary | None = None
    pushed_hash: tuple[Any, ...] = ()


@dataclass
class EngineFigures:
    """Everything measured on one engine."""

    startup_s: float = 0.0
    catalog_s: float = 0.0
    segments: dict[str, SegmentFigures] = field(default_factory=dict)
    rss_before_mb: float | None = None
    peak_rss_mb: float | None = None
    jvm_peak_rss_mb: float | None = None


def _plan_hash(out: Path) -> tuple[Any, ...]:
    """Row counts and an order-free hash of the plan and of the rejected rows."""
    plan = f"read_parquet({quote_literal(str(out / PLAN_FILE))})"
    invalid = f"read_parquet({quote_literal(str(out / INVALID_FILE))})"
    with duckdb.connect() as connection:
        row = connection.execute(f"""
            SELECT (SELECT count(*) FROM {plan}),
                   (SELECT bit_xor(hash(batch, action, email, profile_key, body))
                    FROM {plan}),
                   (SELECT count(*) FROM {invalid}),
                   (SELECT bit_xor(hash(profile_key, email, reason)) FROM {invalid})
        """).fetchone()  # noqa: S608 - quoted paths
    return tuple(row or ())


def _measure_segment(workspace: Workspace, name: str, out: Path) -> SegmentFigures:
    figures = SegmentFigures()
    segments = workspace.segments
    started = time.perf_counter()
    figures.counted = segments.count(name)
    figures.count_s = time.perf_counter() - started
    started = time.perf_counter()
    evaluation = segments.evaluate(name, columns=MAPPING.columns)
    for _batch in evaluation:
        pass
    figures.evaluate_s = time.perf_counter() - started
    figures.streamed = evaluation.member_count
    started = time.perf_counter()
    stream = _TimedStream(segments.evaluate(name, columns=MAPPING.columns))
    figures.plan = plan_binding(stream, mapping=MAPPING, state=None, out=out)
    figures.plan_s = time.perf_counter() - started
    figures.plan_reading_s = stream.seconds
    figures.plan_hash = _plan_hash(out)
    # As a run plans once the state reaches plan_from: ask as if it had.
    frame = segments.frame(name, columns=MAPPING.columns, state_rows=sys.maxsize)
    if frame is not None and not unpushable(frame, MAPPING):
        pushed = out.parent / f"{out.name}-pushed"
        pushed.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        members = SparkMembers(frame)
        figures.pushed = plan_binding(members, mapping=MAPPING, state=None, out=pushed)
        figures.pushed_s = time.perf_counter() - started
        figures.pushed_hash = _plan_hash(pushed)
    return figures


def measure(engine: str, settings: Settings, out: Path) -> EngineFigures:
    """Open a workspace on ``engine``; time its catalog, counts, evaluations, plans."""
    figures = EngineFigures()
    resets = _reset_peak_rss()
    figures.rss_before_mb = _status_mb("VmRSS")
    started = time.perf_counter()
    with open_workspace(settings) as workspace:
        figures.startup_s = time.perf_counter() - started
        started = time.perf_counter()
        workspace.engine.catalog()
        figures.catalog_s = time.perf_counter() - started
        for index, name in enumerate(SEGMENTS):
            folder = out / f"segment-{index}"
            figures.segments[name] = _measure_segment(workspace, name, folder)
    figures.peak_rss_mb = _status_mb("VmHWM") if resets else None
    if engine == "spark":
        peaks = [_status_mb("VmHWM", pid) for pid in _jvm_pids()]
        figures.jvm_peak_rss_mb = sum(peak or 0 for peak in peaks) or None
    return figures


# --- checking and printing --------------------------------------------------------


def check_agreement(runs: dict[str, EngineFigures], *, profiles: int) -> None:
    """Each engine agrees with itself; all engines give the same members and plans."""
    for engine, run in runs.items():
        for name, seg in run.segments.items():
            planned = seg.plan.members if seg.plan else -1
            check(
                seg.counted == seg.streamed == planned,
                f"{engine}, {name}: count {seg.counted:,}, evaluation"
                f" {seg.streamed:,} and plan {planned:,} members disagree",
            )
        everyone = run.segments[EVERYONE].counted
        check(
            everyone == profiles,
            f"{engine}: everyone has {everyone:,} members, not {profiles:,}",
        )
    for name in SEGMENTS:
        counts = {engine: run.segments[name].counted for engine, run in runs.items()}
        shown = ", ".join(f"{engine} {count:,}" for engine, count in counts.items())
        check(len(set(counts.values())) == 1, f"{name}: member counts differ: {shown}")
        plans = [run.segments[name].plan for run in runs.values()]
        check(all(plan == plans[0] for plan in plans), f"{name}: plan summaries differ")
        hashes = [run.segments[name].plan_hash for run in runs.values()]
        check(all(h == hashes[0] for h in hashes), f"{name}: plan rows differ")
        for engine, run in runs.items():
            seg = run.segments[name]
            if seg.pushed_s is not None:
                check(seg.pushed == plans[0], f"{engine}, {name}: pushed plan differs")
                check(seg.pushed_hash == hashes[0], f"{engine}, {name}: pushed rows")


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MB"


def print_engine(engine: str, run: EngineFigures) -> None:
    """The figures of one engine, a few lines."""
    print(
        f"  start-up (open the workspace): {run.startup_s:.2f} s;"
        f" first catalog read {run.catalog_s:.2f} s"
    )
    for name, seg in run.segments.items():
        plan = seg.plan
        print(
            f"  {name}: {seg.counted:,} members; count {seg.count_s:.2f} s, evaluate"
            f" {seg.evaluate_s:.2f} s, evaluate + plan {seg.plan_s:.2f} s (reading"
            f" members {seg.plan_reading_s:.2f} s;"
            f" {plan.to_add if plan else 0:,} to add, {plan.invalid if plan else 0:,}"
            f" invalid)"
        )
        if seg.pushed_s is not None:
            print(
                f"  {name}: planned in Spark (classified and diffed there, only the"
                f" rows to send come back) {seg.pushed_s:.2f} s"
            )
    jvm = "" if engine != "spark" else f"; Spark's JVM {_mb(run.jvm_peak_rss_mb)}"
    print(
        f"  peak RSS: this process {_mb(run.peak_rss_mb)} (it held"
        f" {_mb(run.rss_before_mb)} before the engine opened){jvm}"
    )


_ROWS = {
    "start-up": "startup_s",
    "first catalog read": "catalog_s",
    "count, rule": "count_rule_s",
    "count, everyone": "count_everyone_s",
    "evaluate, rule": "evaluate_rule_s",
    "evaluate, everyone": "evaluate_everyone_s",
    "evaluate + plan, rule": "plan_rule_s",
    "evaluate + plan, everyone": "plan_everyone_s",
}


def print_table(engines: dict[str, dict[str, Any]]) -> None:
    """One column per engine, one row per figure (the JSON line's figures)."""
    print(f"{'':<26}" + "".join(f"{engine:>12}" for engine in engines))
    for label, key in _ROWS.items():
        cells = "".join(f"{figures[key]:>10.2f} s" for figures in engines.values())
        print(f"{label:<26}{cells}")
    cells = "".join(
        f"{_mb(figures['peak_rss_mb']):>12}" for figures in engines.values()
    )
    print(f"{'peak RSS (this process)':<26}{cells}")


def _rounded(value: float | None) -> int | None:
    return None if value is None else round(value)


def figures_json(runs: dict[str, EngineFigures], profiles: int) -> dict[str, Any]:
    """Every figure, rounded, for the JSON line."""
    engines: dict[str, Any] = {}
    for engine, run in runs.items():
        rule, everyone = run.segments[RULE], run.segments[EVERYONE]
        engines[engine] = {
            "startup_s": round(run.startup_s, 3),
            "catalog_s": round(run.catalog_s, 3),
            "count_rule_s": round(rule.count_s, 3),
            "count_everyone_s": round(everyone.count_s, 3),
            "evaluate_rule_s": round(rule.evaluate_s, 3),
            "evaluate_everyone_s": round(everyone.evaluate_s, 3),
            "plan_rule_s": round(rule.plan_s, 3),
            "plan_everyone_s": round(everyone.plan_s, 3),
            "rss_before_mb": _rounded(run.rss_before_mb),
            "peak_rss_mb": _rounded(run.peak_rss_mb),
        }
        if run.jvm_peak_rss_mb is not None:
            engines[engine]["jvm_peak_rss_mb"] = round(run.jvm_peak_rss_mb)
        if rule.pushed_s is not None and everyone.pushed_s is not None:
            engines[engine]["plan_in_engine_rule_s"] = round(rule.pushed_s, 3)
            engines[engine]["plan_in_engine_everyone_s"] = round(everyone.pushed_s, 3)
    first = next(iter(runs.values()))
    return {
        "profiles": profiles,
        "members": {name: seg.counted for name, seg in first.segments.items()},
        "engines": engines,
    }


# --- the run ---------------------------------------------------------------------


def _engines(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ENGINES))
    if unknown or not chosen:
        msg = f"--engines takes some of {', '.join(ENGINES)}, comma-separated"
        raise argparse.ArgumentTypeError(msg)
    return list(dict.fromkeys(chosen))


def main(argv: list[str] | None = None) -> int:
    """Run every chosen engine over the same profiles and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--engines", type=_engines, default=list(ENGINES))
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("AUDIENCESYNC_TEST_POSTGRES_URL", POSTGRES_URL),
        help="a server where it may create a schema (default: the tests' server)",
    )
    args = parser.parse_args(argv)
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        " before the run"
    )
    runs: dict[str, EngineFigures] = {}
    with tempfile.TemporaryDirectory(prefix="as-bench-") as name:
        folder = Path(name)
        base = load_settings(home=folder / "home").model_copy(
            update={"profiles_url": None}
        )
        table = _prepare_store(base, folder, args.profiles)
        for engine in args.engines:
            print(f"{engine}:")
            with profiles_url(engine, base, table, postgres=args.postgres_url) as url:
                settings = base.model_copy(update={"profiles_url": url})
                runs[engine] = measure(engine, settings, folder / engine)
            print_engine(engine, runs[engine])
    check_agreement(runs, profiles=args.profiles)
    members = ", ".join(
        f"{name} {seg.counted:,}"
        for name, seg in next(iter(runs.values())).segments.items()
    )
    print(f"members on every engine: {members}; plans identical")
    figures = figures_json(runs, args.profiles)
    print_table(figures["engines"])
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
