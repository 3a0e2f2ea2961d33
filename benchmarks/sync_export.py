"""Export N profiles to the emulator beside a raw pipe baseline, then a 1 % churn run.

One run, on one machine, the emulator's rate limits off (design section 8):

1. ``audiencesync emulator --no-rate-limits`` starts as its own process on a
   free loopback port with a throwaway key. A data folder gets N generated
   profiles (the sample generator; the few malformed or duplicate emails it
   makes on purpose are replaced by unique valid ones, so every profile is
   sendable and the list must hold exactly N), one segment over all of them, a
   connection to the emulator and an export of that segment.
2. Raw pipe baseline: a DuckDB query of the emails, each 1000 of them dumped
   as JSON (orjson) and POSTed with httpx to ``/api/lists/subscribe`` on a fresh
   list of the same emulator, nothing else. The budget's baseline sends one
   call at a time, as the sync engine does: one batch in flight is what bounds
   a crash's re-send to one batch (issue 5). The same pipe with as many calls in
   flight as ``IterableClient`` keeps (``--in-flight``) is printed beside it.
3. Fresh export: ``run_export`` into a new list, end to end (evaluation, plan,
   send, checkpoints, state commit, drift check), timed inside a spawned child
   process whose high-water RSS (VmHWM) is its peak (interpreter and imports
   included). The list size must be N. Budget: at most 2x the baseline.
4. Churn: the profiles file is re-imported with 1 % of N left out and as many
   new profiles in, then the delta run is timed the same way. Its run record
   must show only those changes sent, and the list must equal the new profiles'
   emails exactly. Budget: at most 1.5 s.

Prints the figures, then one JSON line. No email and no key is ever printed.

    .venv/bin/python -m benchmarks.sync_export [--profiles 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import math
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import orjson

from audiencesync.app.home import initialize
from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.core.emails import EMAIL_SQL_PATTERN
from audiencesync.errors import AudiencesyncError
from audiencesync.iterable.client import IterableClient
from audiencesync.profiles.generator import write_profiles
from audiencesync.profiles.identifiers import quote_literal
from audiencesync.profiles.service import import_profiles
from audiencesync.profiles.tables import table_path
from audiencesync.segments.where import parse_where
from audiencesync.settings import Settings, load_settings

FRESH_RATIO_BUDGET = 2.0
DELTA_BUDGET_SECONDS = 1.5
BATCH = 1000
SEGMENT = "Everyone"
EXPORT = "Benchmark export"
CONNECTION = "Emulator"
CLIENT_IN_FLIGHT: int = (
    inspect.signature(IterableClient).parameters["max_in_flight"].default
)


# --- the emulator ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def emulator(key: str) -> Iterator[str]:
    """``audiencesync emulator --no-rate-limits`` on a free port; its base URL."""
    port = _free_port()
    command = [
        sys.executable, "-m", "audiencesync", "emulator", "--no-rate-limits",
        "--port", str(port), "--api-key", key,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - our own CLI
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, key, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(base_url: str, key: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"the emulator exited with code {process.returncode}"
            raise RuntimeError(msg)
        with contextlib.suppress(httpx.TransportError):
            httpx.get(f"{base_url}/api/lists", headers={"Api-Key": key}, timeout=1)
            return
        time.sleep(0.1)
    msg = "the emulator did not start within 30 s"
    raise RuntimeError(msg)


def _list_size(base_url: str, key: str, list_id: int) -> int:
    answer = httpx.get(
        f"{base_url}/api/lists/{list_id}/size", headers={"Api-Key": key}, timeout=60
    )
    answer.raise_for_status()
    return int(answer.text)


def _list_members(base_url: str, key: str, list_id: int) -> set[str]:
    answer = httpx.get(
        f"{base_url}/api/lists/getUsers",
        params={"listId": str(list_id)},
        headers={"Api-Key": key},
        timeout=120,
    )
    answer.raise_for_status()
    return set(answer.text.split())


# --- the data folder ----------------------------------------------------------


def write_sources(folder: Path, profiles: int, churn: int) -> tuple[Path, Path]:
    """Profile files before and after churn: rows [0, N) and [churn, N + churn).

    Every email is valid and unique: a generated email that is malformed, or
    the copy of an earlier one, becomes ``c<number>@example.com``.
    """
    sample = folder / "sample.parquet"
    write_profiles(sample, count=profiles + churn, seed=0)
    clean = "lower(trim(email))"
    valid = f"regexp_full_match({clean}, {quote_literal(EMAIL_SQL_PATTERN)})"
    first_seen = f"row_number() OVER (PARTITION BY {clean} ORDER BY customer_id) = 1"
    fixed = f"""
        SELECT * REPLACE (
            CASE WHEN {valid} AND {first_seen} THEN {clean}
                 ELSE 'c' || substr(customer_id, 2) || '@example.com' END AS email
        ), row_number() OVER (ORDER BY customer_id) - 1 AS n
        FROM read_parquet({quote_literal(str(sample))})
    """  # noqa: S608 -- our own literals
    before, after = folder / "before.parquet", folder / "after.parquet"
    with duckdb.connect() as connection:
        connection.execute(f"CREATE TABLE fixed AS {fixed}")
        for path, low in ((before, 0), (after, churn)):
            window = f"n >= {low} AND n < {low + profiles}"
            rows = f"SELECT * EXCLUDE (n) FROM fixed WHERE {window} ORDER BY n"  # noqa: S608
            target = quote_literal(str(path))
            connection.execute(f"COPY ({rows}) TO {target} (FORMAT parquet)")
    sample.unlink()
    return before, after


def set_up(settings: Settings, source: Path, *, base_url: str, key: str) -> None:
    """Profiles from ``source``, one segment of them all, a connection, an export."""
    initialize(settings)
    import_profiles(settings, source)
    with open_workspace(settings) as workspace:
        workspace.segments.create(SEGMENT, parse_where("email IS NOT NULL"))
        workspace.connections.add(
            CONNECTION, api_key=key, base_url=base_url, shared=True, agreed=True
        )
        workspace.exports.add(
            EXPORT, connection=CONNECTION, email_field="email", segments=[SEGMENT]
        )


# --- the raw pipe baseline ----------------------------------------------------


async def raw_pipe(
    source: Path, *, base_url: str, key: str, list_id: int, in_flight: int
) -> int:
    """DuckDB → JSON → POST, ``in_flight`` calls at a time; subscribers accepted."""
    query = f"SELECT email FROM read_parquet({quote_literal(str(source))})"  # noqa: S608
    limits = httpx.Limits(max_connections=in_flight)
    headers = {"Api-Key": key, "Content-Type": "application/json"}
    slots = asyncio.Semaphore(in_flight)
    accepted = 0

    async def post(client: httpx.AsyncClient, body: bytes) -> None:
        nonlocal accepted
        try:
            answer = await client.post("/api/lists/subscribe", content=body)
            answer.raise_for_status()
            accepted += int(answer.json()["successCount"])
        finally:
            slots.release()

    async with (
        httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as client,
        asyncio.TaskGroup() as group,
    ):
        with duckdb.connect() as connection:
            reader = connection.sql(query).to_arrow_reader(batch_size=BATCH)
            for chunk in reader:
                emails = chunk.column(0).to_pylist()
                body = orjson.dumps(
                    {"listId": list_id, "subscribers": [{"email": e} for e in emails]}
                )
                await slots.acquire()
                group.create_task(post(client, body))
    return accepted


def time_raw_pipe(
    source: Path, *, base_url: str, key: str, in_flight: int
) -> tuple[float, int]:
    """Seconds of the raw pipe into a fresh list, and that list's size."""
    created = httpx.post(
        f"{base_url}/api/lists",
        json={"name": "raw pipe baseline"},
        headers={"Api-Key": key},
    )
    list_id = int(created.json()["listId"])
    started = time.perf_counter()
    accepted = asyncio.run(
        raw_pipe(
            source, base_url=base_url, key=key, list_id=list_id, in_flight=in_flight
        )
    )
    seconds = time.perf_counter() - started
    size = _list_size(base_url, key, list_id)
    if size != accepted:
        msg = f"the baseline list holds {size:,} users, {accepted:,} were accepted"
        raise RuntimeError(msg)
    return seconds, size


# --- runs in a child process --------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One timed ``run_export``, measured inside the child process that ran it."""

    seconds: float
    peak_rss_mb: float
    status: str
    list_id: int
    added: int
    updated: int
    removed: int
    unchanged: int
    batches: int
    rejected: int


def _peak_rss_mb() -> float:
    """This process's peak RSS in MiB: VmHWM, which exec resets.

    Not ``ru_maxrss``: Linux carries it over fork and exec, so a child started
    by a large parent would report the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _timed_run(home: str) -> RunFigures:
    """Run the export once, timed; this process's peak RSS (spawned child)."""
    settings = load_settings(home=Path(home))
    with open_workspace(settings) as workspace:
        started = time.perf_counter()
        try:
            run = run_export(workspace, EXPORT)
        except Exception as exc:
            # Re-raised plain: the pool cannot unpickle every error class, and a
            # foreign error's text may quote a profile value.
            why = str(exc) if isinstance(exc, AudiencesyncError) else type(exc).__name__
            msg = f"the run failed: {why}"
            raise RuntimeError(msg) from None
        seconds = time.perf_counter() - started
    [part] = run.segments
    return RunFigures(
        seconds=seconds,
        peak_rss_mb=_peak_rss_mb(),
        status=run.status.value,
        list_id=part.list_id or 0,
        added=part.added,
        updated=part.updated,
        removed=part.removed,
        unchanged=part.unchanged,
        batches=part.batches_acked,
        rejected=sum(part.rejected.values()) + part.invalid_in_source,
    )


def run_in_child(home: Path) -> RunFigures:
    """:func:`_timed_run` in a fresh (spawned) interpreter."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        figures: RunFigures = pool.apply(_timed_run, (str(home),))
    return figures


# --- the benchmark ------------------------------------------------------------


def _check(condition: bool, what: str) -> None:
    if not condition:
        msg = f"check failed: {what}"
        raise RuntimeError(msg)


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument(
        "--in-flight",
        type=int,
        default=CLIENT_IN_FLIGHT,
        help="calls in flight of the concurrent pipe printed beside the baseline",
    )
    args = parser.parse_args(argv)
    profiles, in_flight = args.profiles, args.in_flight
    churn = max(profiles // 100, 1)
    key = secrets.token_hex(16)  # throwaway; never printed
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        " before the run (other work slows every figure)"
    )
    with (
        tempfile.TemporaryDirectory(prefix="as-bench-") as folder,
        emulator(key) as base_url,
    ):
        home = Path(folder) / "home"
        settings = load_settings(home=home)
        started = time.perf_counter()
        before, after = write_sources(Path(folder), profiles, churn)
        set_up(settings, before, base_url=base_url, key=key)
        print(
            f"set-up: {profiles:,} generated profiles imported, 1 segment, 1 export:"
            f" {time.perf_counter() - started:.1f} s"
        )
        stored = table_path(settings.profiles_folder, settings.profile_table)
        raw_s, raw_size = time_raw_pipe(stored, base_url=base_url, key=key, in_flight=1)
        _check(raw_size == profiles, "the baseline list holds every profile")
        print(
            f"raw pipe baseline (DuckDB → orjson → httpx POST of {BATCH} emails,"
            f" one at a time): {raw_s:.2f} s, {profiles / raw_s:,.0f} emails/s"
        )
        many_s, many_size = time_raw_pipe(
            stored, base_url=base_url, key=key, in_flight=in_flight
        )
        _check(many_size == profiles, "the concurrent pipe's list holds every profile")
        print(
            f"  for reference, the same pipe with {in_flight} calls in flight:"
            f" {many_s:.2f} s (the sync engine keeps one batch in flight, so a"
            " crash re-sends at most one)"
        )

        fresh = run_in_child(home)
        fresh_size = _list_size(base_url, key, fresh.list_id)
        _check(fresh_size == profiles, "the exported list holds every profile")
        _check(fresh.added == profiles, "the fresh run added every profile")
        ratio = fresh.seconds / raw_s
        print(
            f"fresh export ({fresh.status}): {fresh.seconds:.2f} s,"
            f" {profiles / fresh.seconds:,.0f} emails/s, {fresh.batches:,} batches;"
            f" list size {fresh_size:,}"
        )
        print(
            f"  peak RSS {fresh.peak_rss_mb:,.0f} MB (VmHWM of the spawned child"
            " process that ran it, interpreter and imports included)"
        )
        fresh_ok = ratio <= FRESH_RATIO_BUDGET
        print(
            f"fresh export vs raw pipe: {ratio:.2f}x"
            f" (budget ≤ {FRESH_RATIO_BUDGET:.0f}x) → {_verdict(fresh_ok)}"
        )

        started = time.perf_counter()
        import_profiles(settings, after, replace=True)
        print(
            f"re-import with 1 % churn ({churn:,} join, {churn:,} leave):"
            f" {time.perf_counter() - started:.2f} s"
        )
        delta = run_in_child(home)
        calls = 2 * math.ceil(churn / BATCH)
        _check(delta.list_id == fresh.list_id, "the delta run kept the list")
        _check(
            (delta.added, delta.removed, delta.updated) == (churn, churn, 0),
            "the delta run sent only the changes",
        )
        _check(delta.batches == calls, "the delta run made one call per 1000 changes")
        with duckdb.connect() as connection:
            query = f"SELECT email FROM read_parquet({quote_literal(str(after))})"  # noqa: S608
            expected = {str(row[0]) for row in connection.execute(query).fetchall()}
        _check(
            _list_members(base_url, key, delta.list_id) == expected,
            "the list equals the new profiles' emails",
        )
        delta_ok = delta.seconds <= DELTA_BUDGET_SECONDS
        print(
            f"delta run ({delta.status}): {delta.seconds:.2f} s; sent {delta.batches}"
            f" calls: {delta.added:,} subscribed, {delta.removed:,} unsubscribed,"
            f" {delta.unchanged:,} unchanged; list exact"
        )
        print(f"  peak RSS {delta.peak_rss_mb:,.0f} MB (same measure)")
        print(
            f"delta run: {delta.seconds:.2f} s (budget ≤ {DELTA_BUDGET_SECONDS} s)"
            f" → {_verdict(delta_ok)}"
        )
    figures = {
        "profiles": profiles,
        "raw_pipe_s": round(raw_s, 2),
        "raw_pipe_concurrent_s": round(many_s, 2),
        "fresh_export_s": round(fresh.seconds, 2),
        "fresh_ratio": round(ratio, 2),
        "fresh_peak_rss_mb": round(fresh.peak_rss_mb),
        "delta_s": round(delta.seconds, 2),
        "delta_sent": delta.added + delta.removed,
        "fresh_pass": fresh_ok,
        "delta_pass": delta_ok,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
