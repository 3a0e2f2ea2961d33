"""Two ``serve`` instances on one PostgreSQL control plane: one dies, the other resumes.

Design section 9: several ``serve`` instances share a PostgreSQL database, the
secret key and a run-data folder (``AUDIENCESYNC_RUN_DATA``), each with its own
data folder. ``init`` runs in each folder (the second finds the database
initialised and its administrator made) and each imports the same profiles (the
embedded engine's files are per folder); the segment, the connection and the
export are saved once, from the first. Both instances run on this machine as
child processes, each through :mod:`tests.reliability.elsewhere` under a host
name of its own, so the run lock treats them as two machines: a holder's pid is
never looked up, its lease must expire. The export follows a cron schedule
firing every minute (the scheduler has no faster pace to ask for); the
emulator, in this process on a real port, answers each call after a delay so
the run is still sending when the instance that runs it is killed with SIGKILL.
The other instance must wait for the lease (2 minutes, not configurable), then
continue the same run to its end; its scheduler wakes when the lease ends.

Afterwards: the run succeeded, the list equals the segment's valid distinct
emails, no cron slot produced two runs, and the subscribers sent beyond the
segment are at most the batches the kill caught in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from cryptography.fernet import Fernet
from sqlalchemy.pool import NullPool

from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig, serve_in_thread
from audiencesync.iterable.client import MAX_IN_FLIGHT
from audiencesync.sync.statuses import RunStatus
from tests.canary import CANARY_API_KEY, CANARY_PIECES
from tests.reliability.figures import Figures
from tests.web.served import free_port

pytestmark = [pytest.mark.socket, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXPORT = "Newsletter"
EVERY_MINUTE = "* * * * *"
KEY_VARIABLE = "TWO_INSTANCES_ITERABLE_KEY"
BATCH = 1_000
FRENCH = 36_000  # distinct valid French emails: 36 subscribe batches
LATENCY = 2.0  # seconds per call: 8 calls in flight, about 4 batches a second
ACKED_BEFORE_KILL = 4  # batches the first instance checkpoints before it dies
SETTLE = LATENCY + 1.0  # seconds for the calls the killed instance had in flight
WAIT = 120.0  # seconds a setup command or the first run may take
RESUME_WAIT = 240.0  # seconds from the kill to the run's end: lease + a minute + send
STOP_WAIT = 60.0


@dataclass(frozen=True, slots=True)
class ControlPlane:
    """What every instance shares: the database, the key and the run-data folder."""

    database_url: str
    secret_key: str
    run_data: Path


@dataclass
class Instance:
    """One ``serve`` child process, its data folder and its stderr file."""

    name: str
    home: Path
    log: Path
    process: subprocess.Popen[bytes]

    def text(self) -> str:
        """What it printed on stderr so far."""
        return self.log.read_text(encoding="utf-8")


def _env(home: Path, plane: ControlPlane) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    env.update(
        AUDIENCESYNC_HOME=str(home),
        AUDIENCESYNC_DATABASE_URL=plane.database_url,
        AUDIENCESYNC_SECRET_KEY=plane.secret_key,
        AUDIENCESYNC_RUN_DATA=str(plane.run_data),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    env[KEY_VARIABLE] = CANARY_API_KEY
    return env


def _ok(home: Path, plane: ControlPlane, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own CLI, our arguments
        [sys.executable, "-m", "audiencesync", *args],
        env=_env(home, plane),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def _profiles(path: Path) -> frozenset[str]:
    """Write the profiles; the French valid emails, distinct, as Iterable keeps them.

    Besides the French members: German profiles, French rows whose email is not
    one, and French rows repeating a member's email in another case with spaces.
    """
    expected = set()
    with path.open("w", encoding="utf-8") as handle:
        handle.write("customer_id,email,country\n")
        for i in range(FRENCH):
            email = f"p{i:06d}@example.com"
            expected.add(email)
            handle.write(f"F{i},{email},FR\n")
        handle.writelines(f"G{i},g{i:06d}@example.com,DE\n" for i in range(2_000))
        handle.writelines(f"X{i},not-an-email-{i},FR\n" for i in range(50))
        handle.writelines(f"D{i}, P{i:06d}@Example.COM ,FR\n" for i in range(50))
    return frozenset(expected)


def _set_up(tmp_path: Path, plane: ControlPlane, url: str) -> frozenset[str]:
    """Two initialised data folders with the profiles; the export, saved in one."""
    source = tmp_path / "customers.csv"
    expected = _profiles(source)
    for home in (tmp_path / "a", tmp_path / "b"):
        _ok(home, plane, "init")
        _ok(home, plane, "profiles", "import", str(source))
    first = tmp_path / "a"
    _ok(first, plane, "segments", "create", "France", "--where", "country = 'FR'")
    _ok(first, plane, "connections", "add", "--name", "Iterable", "--api-key-env",
        KEY_VARIABLE, "--base-url", url, "--i-agree")  # fmt: skip
    _ok(first, plane, "exports", "add", "--name", EXPORT, "--connection", "Iterable",
        "--email-field", "email", "--segment", "France",
        "--schedule", EVERY_MINUTE)  # fmt: skip
    return expected


def _serve(stack: ExitStack, name: str, home: Path, plane: ControlPlane) -> Instance:
    """Start ``serve`` for ``home`` as host ``name``; stopped (SIGTERM) on exit."""
    log = home.parent / f"serve-{name}.log"
    errors = stack.enter_context(log.open("w", encoding="utf-8"))
    process = subprocess.Popen(  # noqa: S603 - our own CLI, our arguments
        [sys.executable, "-m", "tests.reliability.elsewhere", name, "--", "serve",
         "--port", str(free_port())],
        env=_env(home, plane), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=errors,
    )  # fmt: skip
    stack.callback(_stop, process)
    return Instance(name, home, log, process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_WAIT)


@pytest.fixture
def emulator() -> Iterator[tuple[Emulator, str]]:
    """The emulator knowing the canary key, answering each call after LATENCY."""
    config = EmulatorConfig(
        keys=(ApiKeySpec(CANARY_API_KEY),), rate_limits_enabled=False, latency=LATENCY
    )
    served = Emulator(config)
    with serve_in_thread(served) as url:
        yield served, url


@pytest.fixture
def database(postgres_url: str) -> Iterator[sqlalchemy.Engine]:
    """An engine on the control plane, to watch the runs from outside."""
    engine = sqlalchemy.create_engine(postgres_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def _query(
    database: sqlalchemy.Engine, sql: str, **params: object
) -> list[tuple[Any, ...]]:
    with database.connect() as conn:
        return [tuple(row) for row in conn.execute(sqlalchemy.text(sql), params)]


def _acked(database: sqlalchemy.Engine, run_id: int) -> int:
    [(acked,)] = _query(
        database,
        "SELECT coalesce(sum(batches_acked), 0) FROM run_segments WHERE run_id = :r",
        r=run_id,
    )
    return int(acked)


def _sending_run(
    database: sqlalchemy.Engine, instances: list[Instance]
) -> tuple[int, str]:
    """The first run once it checkpointed ACKED_BEFORE_KILL batches; its holder."""
    deadline = time.monotonic() + WAIT + 60  # the first slot is up to a minute away
    while True:
        for instance in instances:
            assert instance.process.poll() is None, instance.text()
        held = _query(database, "SELECT run_id, holder FROM export_locks")
        if held and _acked(database, held[0][0]) >= ACKED_BEFORE_KILL:
            run_id, holder = held[0]
            return int(run_id), str(holder)
        assert time.monotonic() < deadline, "no run started sending in time"
        time.sleep(0.05)


_GOING = {RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.INTERRUPTED,
          RunStatus.FAILED_RETRYING}  # fmt: skip


def _ended(database: sqlalchemy.Engine, run_id: int, survivor: Instance) -> str:
    deadline = time.monotonic() + RESUME_WAIT
    while True:
        assert survivor.process.poll() is None, survivor.text()
        [(status,)] = _query(
            database, "SELECT status FROM runs WHERE id = :r", r=run_id
        )
        if RunStatus.from_code(status) not in _GOING:
            return str(status)
        assert time.monotonic() < deadline, f"run {run_id} is still {status}"
        time.sleep(0.2)


def _subscribed(emulator: Emulator) -> tuple[int, int]:
    """Subscribe calls answered 200, and the subscribers they carried."""
    calls = [
        r
        for r in emulator.requests
        if r.endpoint == "lists/subscribe" and r.status == 200
    ]
    return len(calls), sum(r.items for r in calls)


@dataclass(frozen=True, slots=True)
class Kill:
    """The instance killed while it ran the run, and what it left."""

    run_id: int
    victim: Instance
    survivor: Instance
    at: datetime
    lease_ends: datetime  # its lease, never renewed again
    in_flight: int  # subscribe calls answered for it but never checkpointed


def _kill_the_holder(
    database: sqlalchemy.Engine, emulator: Emulator, instances: list[Instance]
) -> Kill:
    """SIGKILL the instance whose run holds the export, once it sent a few batches."""
    run_id, holder = _sending_run(database, instances)
    [victim] = [i for i in instances if holder.split(":")[1] == str(i.process.pid)]
    [survivor] = [i for i in instances if i is not victim]
    assert holder.startswith(f"{victim.name}:")
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(STOP_WAIT)
    at = datetime.now(UTC)
    [(lease_ends,)] = _query(database, "SELECT expires_at FROM export_locks")
    acked = _acked(database, run_id)
    time.sleep(SETTLE)  # the calls it had on the wire are answered
    in_flight = _subscribed(emulator)[0] - acked
    return Kill(run_id, victim, survivor, at, lease_ends, in_flight)


def _first_ack_after(database: sqlalchemy.Engine, kill: Kill) -> datetime:
    [(first,)] = _query(
        database,
        "SELECT min(b.acked_at) FROM run_batches b JOIN run_segments s"
        " ON s.id = b.run_segment_id WHERE s.run_id = :r AND b.acked_at > :k",
        r=kill.run_id, k=kill.at,
    )  # fmt: skip
    assert isinstance(first, datetime), "the survivor acknowledged no batch of the run"
    return first


def _scheduled_minutes(database: sqlalchemy.Engine) -> list[datetime]:
    """The cron minute of each scheduled run (the refused ones too)."""
    rows = _query(database, "SELECT created_at FROM runs WHERE trigger = 'scheduled'")
    return [created.replace(second=0, microsecond=0) for (created,) in rows]


def test_a_killed_instance_s_run_is_finished_by_the_other(
    tmp_path: Path,
    postgres_url: str,
    database: sqlalchemy.Engine,
    emulator: tuple[Emulator, str],
    reliability_figures: Figures,
) -> None:
    """SIGKILL the instance running a scheduled run; the other resumes it later."""
    served, url = emulator
    plane = ControlPlane(postgres_url, Fernet.generate_key().decode(),
                         tmp_path / "shared")  # fmt: skip
    expected = _set_up(tmp_path, plane, url)
    with ExitStack() as stack:
        instances = [
            _serve(stack, "machine-a", tmp_path / "a", plane),
            _serve(stack, "machine-b", tmp_path / "b", plane),
        ]
        kill = _kill_the_holder(database, served, instances)
        status = _ended(database, kill.run_id, kill.survivor)
        resumed_in = (datetime.now(UTC) - kill.at).total_seconds()
        first_ack = _first_ack_after(database, kill)
        [(list_id,)] = _query(
            database,
            "SELECT list_id FROM run_segments WHERE run_id = :r",
            r=kill.run_id,
        )
        minutes = _scheduled_minutes(database)
        _stop(kill.survivor.process)
    survivor, logs = kill.survivor.text(), kill.victim.text() + kill.survivor.text()
    listed = served.list_members(list_id)
    sent = _subscribed(served)[1]

    reliability_figures.record(lost=len(expected - listed),
                               wrong_lists=int(listed != expected))  # fmt: skip
    for what, value in (
        ("batches in flight at the kill", kill.in_flight),
        ("subscribers re-sent", sent - len(expected)),
        (
            "lease end to resumed send (s)",
            round((first_ack - kill.lease_ends).total_seconds(), 1),
        ),
        ("kill to the run's end (s)", round(resumed_in)),
        ("scheduled runs", len(minutes)),
    ):
        reliability_figures.note(f"two instances: {what}", value)
    assert status in {RunStatus.SUCCEEDED.code, RunStatus.SUCCEEDED_WITH_REJECTS.code}
    assert listed == expected
    assert f"run {kill.run_id} of export {EXPORT!r} continued" in survivor
    assert first_ack >= kill.lease_ends  # not before the dead holder's lease ended
    assert len(minutes) == len(set(minutes)), minutes  # each slot fired once
    assert 0 <= kill.in_flight <= MAX_IN_FLIGHT
    assert len(expected) <= sent <= len(expected) + BATCH * kill.in_flight
    assert kill.survivor.process.returncode == 0, survivor
    assert "Traceback" not in logs
    assert not any(piece in logs for piece in CANARY_PIECES)
