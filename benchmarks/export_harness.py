"""What the export benchmarks share: the emulator, messy profiles, timed commands.

* :func:`emulator` starts ``audiencesync emulator --no-rate-limits`` (optionally
  ``--latency``) as its own process on a free loopback port, with a throwaway key.
* :func:`write_messy_profiles` writes generated profiles whose emails are as messy
  as real exports: about 3 % invalid, 1 % duplicates (the same address on another
  profile, in other case or with whitespace), mixed case, 0.5 % missing.
* :func:`expected_members` reads a profiles file back the way the product
  normalises emails (trim, lowercase, :func:`audiencesync.core.emails.is_valid_email`)
  and gives the distinct valid addresses a list must hold.
* :func:`run_command` runs an ``audiencesync`` command as a user does, a child
  process, and measures its wall time (spawn to exit), peak RSS and CPU time.
* :func:`cpu_seconds` reads a process's CPU time (user + system) so far: with
  the emulator's, it shows how much of a 2-core machine a run and its floor use.
* :func:`time_raw_pipe` is the floor: DuckDB → orjson → httpx POST of 1000
  emails to ``/api/lists/subscribe``, several calls in flight, nothing else.

Nothing here prints an email address or a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson

from audiencesync.app.home import initialize
from audiencesync.app.workspace import open_workspace
from audiencesync.core.emails import is_valid_email
from audiencesync.profiles.generator import write_profiles
from audiencesync.profiles.identifiers import quote_literal
from audiencesync.profiles.service import import_profiles
from audiencesync.segments import Definition
from audiencesync.segments.where import parse_where
from audiencesync.settings import Settings

BATCH = 1000
SEGMENT = "Everyone"
EXPORT = "Benchmark export"
CONNECTION = "Emulator"
MANY_EXPORT = "Many segments"
WHITESPACE = " \t\n\r\f\v"  # what the product trims (audiencesync.sync.identity)
POLL_SECONDS = 0.01


# --- the emulator ---------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 free at the moment of asking."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Emulated:
    """The emulator process a benchmark runs against."""

    base_url: str
    pid: int

    def cpu_s(self) -> float:
        """The emulator's CPU seconds so far."""
        return cpu_seconds(self.pid)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far, every thread (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def emulator(
    key: str, *, latency: float = 0.0, port: int | None = None
) -> Iterator[Emulated]:
    """``audiencesync emulator --no-rate-limits`` on ``port`` (else a free one)."""
    port = port or free_port()
    command = [
        sys.executable, "-m", "audiencesync", "emulator", "--no-rate-limits",
        "--port", str(port), "--api-key", key, "--latency", str(latency),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - our own CLI
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, key, process)
        yield Emulated(base_url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)


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


def concurrent_calls_seconds(base_url: str, key: str, *, calls: int = 8) -> float:
    """Seconds for ``calls`` simultaneous ``GET /api/lists`` (is latency parallel?).

    One round opens the connections untimed; the best of three rounds is kept.
    """

    async def rounds() -> list[float]:
        limits = httpx.Limits(max_connections=calls)
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Api-Key": key}, limits=limits
        ) as client:
            seconds = []
            for _ in range(4):
                started = time.perf_counter()
                answers = await asyncio.gather(
                    *(client.get("/api/lists") for _ in range(calls))
                )
                seconds.append(time.perf_counter() - started)
                for answer in answers:
                    answer.raise_for_status()
            return seconds[1:]

    return min(asyncio.run(rounds()))


def list_size(base_url: str, key: str, list_id: int) -> int:
    """The emulator's member count of ``list_id``."""
    answer = httpx.get(
        f"{base_url}/api/lists/{list_id}/size", headers={"Api-Key": key}, timeout=60
    )
    answer.raise_for_status()
    return int(answer.text)


def list_members(base_url: str, key: str, list_id: int) -> set[str]:
    """Every member of ``list_id`` (``GET /api/lists/getUsers``)."""
    answer = httpx.get(
        f"{base_url}/api/lists/getUsers",
        params={"listId": str(list_id)},
        headers={"Api-Key": key},
        timeout=300,
    )
    answer.raise_for_status()
    return set(answer.text.split())


# --- messy profiles -------------------------------------------------------------


def _draw(salt: int) -> str:
    """A DOUBLE in [0, 1) per row ``i``, independent per salt."""
    mixed = (salt * 0x9E3779B97F4A7C15) & ((1 << 62) - 1)
    return f"(CAST(hash(xor(i, {mixed})) AS DOUBLE) / 18446744073709551616.0)"


# The sample generator already makes 1 % malformed, 0.5 % copies of another
# profile's email and about 3.5 % in capitals or with spaces around; this adds
# 2 % malformed, 0.5 % duplicates in another case or with whitespace, 0.5 %
# missing and 2 % more in mixed case.
_MESSY_EMAIL = """CASE
    WHEN u < 0.007 THEN replace(s.email, '@', '')
    WHEN u < 0.014 THEN split_part(s.email, '@', 1) || '@'
    WHEN u < 0.020 THEN replace(s.email, '@', ' @ ')
    WHEN u < 0.0225 THEN upper(t.email)
    WHEN u < 0.0250 THEN chr(9) || t.email || ' '
    WHEN u < 0.030 THEN NULL
    WHEN u < 0.050 THEN upper(left(s.email, 3)) || substr(s.email, 4)
    ELSE s.email END"""


def write_messy_profiles(out: Path, *, count: int, seed: int = 0) -> None:
    """``count`` generated profiles with messy emails, as Parquet at ``out``."""
    with tempfile.TemporaryDirectory(prefix="as-gen-", dir=out.parent) as folder:
        sample = Path(folder) / "sample.parquet"
        write_profiles(sample, count=count, seed=seed)
        rows = f"""
            SELECT *, CAST(substr(customer_id, 2) AS BIGINT) - 1 AS i
            FROM read_parquet({quote_literal(str(sample))})
        """  # noqa: S608 -- our own literals
        twin = f"(i + 1 + hash(xor(i, 77)) % {max(count - 1, 1)}) % {count}"
        drawn = f"""
            SELECT *, {_draw(1)} AS u,
                   CASE WHEN {_draw(1)} >= 0.020 AND {_draw(1)} < 0.025
                        THEN {twin} END AS twin
            FROM ({rows})
        """  # noqa: S608 -- our own literals
        messy = f"""
            SELECT s.* EXCLUDE (i, u, twin) REPLACE ({_MESSY_EMAIL} AS email)
            FROM ({drawn}) AS s LEFT JOIN ({rows}) AS t ON t.i = s.twin
            ORDER BY s.i
        """  # noqa: S608 -- our own literals
        with duckdb.connect() as connection:
            target = quote_literal(str(out))
            connection.execute(f"COPY ({messy}) TO {target} (FORMAT parquet)")


def write_sources(folder: Path, profiles: int, churn: int) -> tuple[Path, Path]:
    """Profile files before and after churn: rows [0, N) and [churn, N + churn)."""
    everyone = folder / "everyone.parquet"
    write_messy_profiles(everyone, count=profiles + churn)
    before, after = folder / "before.parquet", folder / "after.parquet"
    with duckdb.connect() as connection:
        source = f"read_parquet({quote_literal(str(everyone))})"
        for path, low in ((before, 0), (after, churn)):
            window = f"LIMIT {profiles} OFFSET {low}"
            rows = f"SELECT * FROM {source} ORDER BY customer_id {window}"  # noqa: S608
            target = quote_literal(str(path))
            connection.execute(f"COPY ({rows}) TO {target} (FORMAT parquet)")
    everyone.unlink()
    return before, after


@dataclass(frozen=True, slots=True)
class Expected:
    """What a profiles file should become in a list, counted independently."""

    members: frozenset[str]
    rows: int
    missing: int
    invalid: int
    duplicates: int


def expected_members(source: Path) -> Expected:
    """The distinct valid emails of ``source``, normalised as the product does."""
    with duckdb.connect() as connection:
        table = f"read_parquet({quote_literal(str(source))})"
        query = f"SELECT email FROM {table} ORDER BY customer_id"  # noqa: S608
        emails = [row[0] for row in connection.execute(query).fetchall()]
    missing = invalid = 0
    members: set[str] = set()
    for raw in emails:
        email = None if raw is None else str(raw).strip(WHITESPACE).lower()
        if not email:
            missing += 1
        elif not is_valid_email(email):
            invalid += 1
        else:
            members.add(email)
    duplicates = len(emails) - missing - invalid - len(members)
    return Expected(frozenset(members), len(emails), missing, invalid, duplicates)


def count_distinct_valid(source: Path) -> int:
    """How many distinct valid emails ``source`` holds (DuckDB; for large files)."""
    from audiencesync.core.emails import (  # noqa: PLC0415 - large mode only
        EMAIL_SQL_PATTERN,
        MAX_EMAIL_LENGTH,
        MAX_LOCAL_LENGTH,
    )

    clean = f"lower(trim(email, {quote_literal(WHITESPACE)}))"
    query = f"""
        SELECT count(DISTINCT e) FROM (SELECT {clean} AS e
            FROM read_parquet({quote_literal(str(source))}))
        WHERE strlen(e) <= {MAX_EMAIL_LENGTH} AND regexp_full_match(e, ?)
              AND strpos(e, '@') <= {MAX_LOCAL_LENGTH + 1}
    """  # noqa: S608 -- our own literals
    with duckdb.connect() as connection:
        row = connection.execute(query, [EMAIL_SQL_PATTERN]).fetchone()
    return int(row[0]) if row else 0


# --- the data folder --------------------------------------------------------------


def set_up(
    settings: Settings,
    source: Path,
    *,
    base_url: str,
    key: str,
    segments: Mapping[str, Definition] | None = None,
) -> None:
    """Profiles from ``source``, a segment of them all, a connection, an export.

    ``segments``: more segments, all in a second export, :data:`MANY_EXPORT`.
    """
    initialize(settings)
    import_profiles(settings, source)
    with open_workspace(settings) as workspace:
        workspace.segments.create(SEGMENT, parse_where("customer_id IS NOT NULL"))
        workspace.connections.add(
            CONNECTION, api_key=key, base_url=base_url, shared=True, agreed=True
        )
        workspace.exports.add(
            EXPORT, connection=CONNECTION, email_field="email", segments=[SEGMENT]
        )
        for name, definition in (segments or {}).items():
            workspace.segments.create(name, definition)
        if segments:
            workspace.exports.add(
                MANY_EXPORT,
                connection=CONNECTION,
                email_field="email",
                segments=list(segments),
            )


# --- commands as a user runs them -------------------------------------------------


def cli_command() -> list[str]:
    """The installed console script beside this interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "audiencesync"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "audiencesync"]


@dataclass(frozen=True, slots=True)
class CommandFigures:
    """One command run as a child process, measured from outside."""

    wall_s: float
    peak_rss_mb: float
    ru_maxrss_mb: float
    exit_code: int
    output: str
    cpu_s: float = 0.0  # user + system, every thread (warm: the worker's, to 10 ms)

    def as_json(self) -> Any:
        """The command's ``--json`` output, parsed."""
        return json.loads(self.output)


class _PeakWatcher(threading.Thread):
    """Polls ``/proc/<pid>/status`` for VmHWM, the child's own high-water RSS.

    With ``launcher``, the command runs in one of the launcher's workers: the
    workers' VmHWM is read instead (a fork counts the pages it shares with the
    launcher: an upper bound).
    """

    def __init__(self, pid: int, *, launcher: int | None = None) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.launcher = launcher
        self.peak_kib = 0
        self.cpu_by_pid: dict[int, float] = {}  # the last CPU time read of each
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for pid in self._watched():
                with contextlib.suppress(OSError):
                    status = Path(f"/proc/{pid}/status").read_text()
                    for line in status.splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                    self.cpu_by_pid[pid] = cpu_seconds(pid)
            self.done.wait(POLL_SECONDS)

    def _watched(self) -> list[int]:
        return [self.pid] if self.launcher is None else children(self.launcher)


def children(pid: int) -> list[int]:
    """The pids of a process's children (none if it has gone)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def run_command(
    args: Sequence[str],
    *,
    home: Path,
    launcher: int | None = None,
    settings: Mapping[str, str] | None = None,
) -> CommandFigures:
    """``audiencesync ARGS`` with ``home`` as data folder; wall time and peak RSS.

    ``launcher``: the pid of the launcher ``serve`` keeps for ``home``, whose
    worker runs the command (peak RSS is then the worker's). ``settings``: more
    ``AUDIENCESYNC_*`` variables for the command.

    The data folder is chosen as the CLI chooses it: ``AUDIENCESYNC_HOME`` (no
    ``--home`` flag), from a working directory without a ``.env`` file. Wall time
    runs from just before the spawn to the reaped exit. Peak RSS is the highest
    ``VmHWM`` read from ``/proc/<pid>/status`` every 10 ms: exec gives the child a
    fresh address space, so VmHWM is its own. ``ru_maxrss`` from ``wait4`` is kept
    beside it as an upper bound: at exec Linux folds the spawning parent's
    high-water mark into it, so a large benchmark process would inflate it.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    env["AUDIENCESYNC_HOME"] = str(home)
    env.update(settings or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [*cli_command(), *args], stdout=out, stderr=err, env=env, cwd=home.parent
        )
        watcher = _PeakWatcher(process.pid, launcher=launcher)
        watcher.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        watcher.done.set()
        watcher.join()
        out.seek(0)
        err.seek(0)
        output, errors = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        tail = errors.strip().splitlines()[-3:]
        msg = f"`{' '.join(args[:2])}` exited {process.returncode}: {' / '.join(tail)}"
        raise RuntimeError(msg)
    own_cpu = usage.ru_utime + usage.ru_stime
    return CommandFigures(
        wall_s=wall,
        peak_rss_mb=watcher.peak_kib / 1024,
        ru_maxrss_mb=usage.ru_maxrss / 1024,
        exit_code=process.returncode,
        output=output,
        cpu_s=own_cpu if launcher is None else sum(watcher.cpu_by_pid.values()),
    )


# --- the raw pipe floor -------------------------------------------------------------


async def raw_pipe(
    source: Path, *, base_url: str, key: str, list_id: int, in_flight: int
) -> int:
    """DuckDB → JSON → POST, ``in_flight`` calls at a time; subscribers accepted."""
    table = f"read_parquet({quote_literal(str(source))})"
    query = f"SELECT email FROM {table} WHERE email IS NOT NULL"  # noqa: S608
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
        httpx.AsyncClient(
            base_url=base_url, headers=headers, limits=limits, timeout=120
        ) as client,
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
    """Seconds of the raw pipe into a fresh list, and that list's size.

    The emulator refuses what the pipe does not clean (whitespace, malformed) and
    counts an address already on the list as a success, so the size is printed,
    not checked.
    """
    created = httpx.post(
        f"{base_url}/api/lists",
        json={"name": f"raw pipe {time.time_ns()}"},
        headers={"Api-Key": key},
    )
    created.raise_for_status()
    list_id = int(created.json()["listId"])
    started = time.perf_counter()
    accepted = asyncio.run(
        raw_pipe(
            source, base_url=base_url, key=key, list_id=list_id, in_flight=in_flight
        )
    )
    seconds = time.perf_counter() - started
    if accepted == 0:
        msg = "the emulator accepted none of the pipe's emails"
        raise RuntimeError(msg)
    return seconds, list_size(base_url, key, list_id)


def check(condition: bool, what: str) -> None:
    """Stop the benchmark when a correctness check fails."""
    if not condition:
        msg = f"check failed: {what}"
        raise RuntimeError(msg)


def verdict(passed: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if passed else "FAIL"
