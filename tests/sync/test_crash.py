"""Crash safety (reliability plan T01): an export killed with SIGKILL, then resumed.

The export runs in a child process (``python -m audiencesync exports run``); the
emulator runs in this process on a real port and counts every subscriber it
was sent. The child is killed with SIGKILL when the emulator has answered a
seeded random number of subscribe calls (and once before the first call), and
started again: each start finds the run Interrupted (its lock holder is dead)
and continues it. Afterwards the list must equal the segment exactly, and the
subscribers sent beyond the segment's size must be at most the batches each
kill caught in flight (sent, not checkpointed), at most the client's window.
As the plan asks: one kill of a 1,000,000-profile export, and ten seeded kills
of a 100,000-profile one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig, serve_in_thread
from audiencesync.iterable.client import MAX_IN_FLIGHT
from tests.canary import CANARY_API_KEY
from tests.reliability.figures import Figures

pytestmark = [pytest.mark.socket, pytest.mark.slow]

BATCH = 1_000
SEED = 20261128
KEY_VARIABLE = "CRASH_TEST_ITERABLE_KEY"
WAIT = 120.0  # seconds any one step may take before the test gives up
SETTLE = 0.3  # seconds for calls a killed child had on the wire to land


@pytest.fixture
def emulator() -> Iterator[tuple[Emulator, str]]:
    """The emulator with its limits off, knowing the canary key."""
    config = EmulatorConfig(
        keys=(ApiKeySpec(CANARY_API_KEY),), rate_limits_enabled=False
    )
    served = Emulator(config)
    with serve_in_thread(served) as url:
        yield served, url


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    env.update({"AUDIENCESYNC_HOME": str(home), KEY_VARIABLE: CANARY_API_KEY})
    return env


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 -- our own CLI, fixed arguments
        [sys.executable, "-m", "audiencesync", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )


def _ok(home: Path, *args: str) -> str:
    done = _cli(home, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def home(
    tmp_path: Path, emulator: tuple[Emulator, str], request: pytest.FixtureRequest
) -> Path:
    """``profiles`` French profiles, one segment, a connection, a manual export."""
    profiles: int = request.param
    folder = tmp_path / "home"
    source = tmp_path / "customers.csv"
    with source.open("w", encoding="utf-8") as handle:
        handle.write("customer_id,email,country\n")
        handle.writelines(f"C{i},p{i:07d}@example.com,FR\n" for i in range(profiles))
    _ok(folder, "init")
    _ok(folder, "profiles", "import", str(source))
    _ok(folder, "segments", "create", "France", "--where", "country = 'FR'")
    _ok(folder, "connections", "add", "--name", "Iterable", "--api-key-env",
        KEY_VARIABLE, "--base-url", emulator[1], "--i-agree")  # fmt: skip
    _ok(folder, "exports", "add", "--name", "Newsletter", "--connection", "Iterable",
        "--email-field", "email", "--segment", "France",
        "--schedule", "manual")  # fmt: skip
    return folder


def _subscribe_calls(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.endpoint == "lists/subscribe")


def _kill_after(home: Path, emulator: Emulator, calls: int) -> int:
    """Start the export, SIGKILL it once the emulator answered ``calls`` more.

    Returns how many batches it had in flight: sent to the emulator but not
    checkpointed. Those are the only ones a resume may send again.
    """
    before = (_subscribe_calls(emulator), _acked(home))
    child = subprocess.Popen(
        [sys.executable, "-m", "audiencesync", "exports", "run", "Newsletter"],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + WAIT
    while _subscribe_calls(emulator) - before[0] < calls and child.poll() is None:
        assert time.monotonic() < deadline, "the export made no progress"
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=WAIT)  # reaped: its pid no longer exists
    time.sleep(SETTLE)  # calls already on the wire still reach the emulator
    return (_subscribe_calls(emulator) - before[0]) - (_acked(home) - before[1])


def _acked(home: Path) -> int:
    """Batches of run 1 checkpointed so far (0 before the run exists)."""
    shown = _cli(home, "runs", "show", "1", "--json")
    if shown.returncode != 0:
        return 0
    return sum(part["batches"] for part in json.loads(shown.stdout)["segments"])


CASES = [
    pytest.param(1_000_000, 1, id="1M-profiles-1-kill"),
    pytest.param(100_000, 10, id="100k-profiles-10-kills"),
]


def _kill_points(profiles: int, kills: int) -> list[int]:
    """0 (while planning), then seeded call counts that leave batches to send."""
    draw = random.Random(SEED + profiles)
    batches = profiles // BATCH
    if kills == 1:
        return [draw.randint(batches // 10, batches * 9 // 10)]
    share = batches // kills
    return [0, *(draw.randint(2, share) for _ in range(kills - 1))]


@pytest.mark.parametrize(("home", "kills"), CASES, indirect=["home"])
def test_sigkill_at_random_points_loses_nobody(
    home: Path,
    kills: int,
    emulator: tuple[Emulator, str],
    reliability_figures: Figures,
    request: pytest.FixtureRequest,
) -> None:
    """After the kills and a resume the list is exact; each kill re-sends ≤ 1 batch."""
    served = emulator[0]
    profiles = request.node.callspec.params["home"]
    points = _kill_points(profiles, kills)
    in_flight = [_kill_after(home, served, calls) for calls in points]

    began = time.monotonic()
    caught_up = json.loads(_ok(home, "exports", "run", "Newsletter", "--json"))
    resumed_in = time.monotonic() - began
    run = json.loads(_ok(home, "runs", "show", "1", "--json"))

    assert run["status"] == "Succeeded"  # one run, continued after each kill
    assert (caught_up["id"], caught_up["status"]) == (2, "Succeeded")
    assert caught_up["segments"][0]["added"] == 0  # nothing changed meanwhile
    list_id = run["segments"][0]["list_id"]
    expected = {f"p{i:07d}@example.com" for i in range(profiles)}
    listed = served.list_members(list_id)
    sent = sum(r.items for r in served.requests if r.endpoint == "lists/subscribe")
    reliability_figures.record(lost=len(expected - listed),
                               wrong_lists=int(listed != expected))  # fmt: skip
    reliability_figures.note(
        f"subscribers re-sent over {kills} kills of {profiles:,}", sent - profiles
    )
    reliability_figures.note(
        f"batches in flight at the {kills} kills of {profiles:,}", sum(in_flight)
    )
    reliability_figures.note(
        f"resume and catch-up after the last kill of {profiles:,} (s)",
        round(resumed_in, 1),
    )
    assert listed == expected
    # Each kill re-sent at most the batches it caught in flight, never more.
    assert max(in_flight) <= MAX_IN_FLIGHT
    assert profiles <= sent <= profiles + BATCH * sum(in_flight)
    assert run["segments"][0]["added"] == profiles
