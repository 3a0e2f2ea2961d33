"""An export whose profiles live in Spark: segments evaluated there, lists exact.

The profiles are a data lake's Parquet files (not imported: written by "another
system"), read by Spark in local mode through ``spark+local://?tables=...``; the
emulator serves Iterable on a real port. Messy emails (mixed case, whitespace,
duplicates, malformed, missing) are cleaned by the product as on any engine.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audiencesync.app.home import initialize
from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator import Emulator, EmulatorConfig, serve_in_thread
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.segments.parsing import parse_rules
from audiencesync.settings import Settings, load_settings
from audiencesync.sync import plan
from audiencesync.sync.history import RunInfo
from audiencesync.sync.spark_plan import SparkMembers
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import sent_items

pytestmark = [pytest.mark.slow, pytest.mark.socket]

EXPORT = "Lake newsletter"
SEGMENT = "French web buyers"
PROFILES = 3_000
RULES = {
    "all": [
        {"field": "country", "op": "=", "value": "FR"},
        {
            "exists": {
                "table": "purchases",
                "all": [{"field": "channel", "op": "=", "value": "web"}],
            }
        },
    ]
}


@dataclass(frozen=True, slots=True)
class Profile:
    """One generated profile and what the segment and the list make of it."""

    key: str
    email: str | None
    country: str
    web_buyer: bool

    @property
    def clean(self) -> str | None:
        """The email as Iterable gets it; None when the product must reject it."""
        if self.email is None:
            return None
        clean = self.email.strip().lower()
        return clean if clean.endswith("@example.com") else None


def _profiles(seed: int, *, leavers: int = 0) -> list[Profile]:
    """Messy profiles; with ``leavers``, that many French web buyers move to Spain."""
    draw = random.Random(seed)
    made: list[Profile] = []
    for i in range(PROFILES):
        roll = draw.random()
        if roll < 0.03:
            email: str | None = f"broken-{i}"
        elif roll < 0.04:
            email = None
        elif roll < 0.06 and made:
            email = f"  {(made[draw.randrange(len(made))].email or 'x').upper()} "
        else:
            email = f"User{i}@Example.com"
        country = draw.choice(["FR", "FR", "DE", "ES"])
        made.append(Profile(f"K{i:05d}", email, country, draw.random() < 0.5))
    moved = 0
    for index, profile in enumerate(made):
        if moved < leavers and profile.country == "FR" and profile.web_buyer:
            made[index] = Profile(profile.key, profile.email, "ES", True)
            moved += 1
    return made


def _expected(profiles: list[Profile]) -> frozenset[str]:
    members = (p for p in profiles if p.country == "FR" and p.web_buyer)
    return frozenset(clean for p in members if (clean := p.clean) is not None)


def _write_lake(folder: Path, profiles: list[Profile]) -> None:
    """The lake's tables as another system writes them: plain Parquet files."""
    folder.mkdir(parents=True, exist_ok=True)
    customers = pa.table(
        {
            "customer_id": [p.key for p in profiles],
            "email": [p.email for p in profiles],
            "country": [p.country for p in profiles],
            "lifetime_value": pa.array(
                [Decimal(i % 500) for i in range(len(profiles))], pa.decimal128(18, 2)
            ),
            "score": [i / 7 for i in range(len(profiles))],
        }
    )
    buyers = [p.key for p in profiles if p.web_buyer]
    others = [p.key for p in profiles if not p.web_buyer]
    purchases = pa.table(
        {
            "purchase_id": list(range(len(buyers) + len(others))),
            "customer_id": buyers + others,
            "channel": ["web"] * len(buyers) + ["store"] * len(others),
        }
    )
    pq.write_table(customers, folder / "customers.parquet")
    pq.write_table(purchases, folder / "purchases.parquet")


@dataclass
class Lake:
    """A data folder whose profile engine is Spark over ``folder``."""

    settings: Settings
    folder: Path
    emulator: Emulator
    url: str

    def run(self) -> RunInfo:
        """Run the export once, in this process (the test's Spark context)."""
        with open_workspace(self.settings) as workspace:
            return run_export(workspace, EXPORT)

    def members(self, run: RunInfo) -> frozenset[str]:
        """The segment's list as the emulator holds it."""
        [part] = run.segments
        return self.emulator.list_members(part.list_id or 0)

    def sent(self) -> dict[str, int]:
        """Identifiers sent per bulk endpoint since the last reset."""
        return sent_items(self.emulator)


@pytest.fixture
def lake(
    tmp_path: Path, spark_session: Any, request: pytest.FixtureRequest
) -> Iterator[Lake]:
    """Profiles in a Spark-read lake, the segment, a connection and an export.

    Indirect parameter: where runs plan, ``"here"`` (DuckDB, the default below
    10 million people in the state) or ``"in_spark"`` (plan_from=0: always).
    """
    del spark_session  # started once per process; the engine joins its context
    folder = tmp_path / "lake"
    _write_lake(folder, _profiles(seed=1))
    plan_from = (
        "&plan_from=0" if getattr(request, "param", "here") == "in_spark" else ""
    )
    url = f"spark+local://?tables={folder}&cores=2{plan_from}"
    settings = load_settings(
        home=tmp_path / "home", profiles_url=url, profile_key="customer_id"
    )
    initialize(settings)
    emulator = Emulator(EmulatorConfig(rate_limits_enabled=False))
    with serve_in_thread(emulator) as base_url, open_workspace(settings) as workspace:
        workspace.segments.create(SEGMENT, parse_rules(RULES))
        workspace.connections.add(
            "Iterable", api_key=DEFAULT_API_KEY, base_url=base_url, shared=True,
            agreed=True,
        )  # fmt: skip
        workspace.exports.add(
            EXPORT, connection="Iterable", email_field="email", segments=[SEGMENT],
            fields={"ltv": "lifetime_value"},
        )  # fmt: skip
        yield Lake(settings, folder, emulator, base_url)


def _forbid(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, what: str
) -> None:
    """Make ``owner.name`` fail the test, saying ``what`` happened."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        pytest.fail(f"the run {what}")

    monkeypatch.setattr(owner, name, refuse)


PLANNERS = pytest.mark.parametrize("lake", ["here", "in_spark"], indirect=True)


@PLANNERS
def test_a_spark_segment_fills_its_list_exactly(lake: Lake) -> None:
    """The list holds the segment's distinct valid emails; the rest are rejects."""
    profiles = _profiles(seed=1)
    run = lake.run()
    [part] = run.segments
    members = [p for p in profiles if p.country == "FR" and p.web_buyer]
    assert run.status is RunStatus.SUCCEEDED_WITH_REJECTS
    assert lake.members(run) == _expected(profiles)
    assert part.added == len(_expected(profiles))
    assert part.invalid_in_source == len(members) - len(_expected(profiles))


@PLANNERS
def test_after_the_lake_changes_only_the_changes_are_sent(lake: Lake) -> None:
    """Profiles leaving the segment are removed, the others are not sent again."""
    lake.run()
    changed = _profiles(seed=1, leavers=25)
    _write_lake(lake.folder, changed)
    lake.emulator.reset_requests()

    run = lake.run()

    left = _expected(_profiles(seed=1)) - _expected(changed)
    assert lake.members(run) == _expected(changed)
    assert lake.sent() == {"lists/unsubscribe": len(left)}


@pytest.mark.parametrize("lake", ["in_spark"], indirect=True)
def test_the_members_are_classified_and_diffed_in_spark(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No member row is loaded into this process: only the rows to send come back."""
    _forbid(monkeypatch, plan, "load_members", "loaded the members into DuckDB")

    run = lake.run()

    assert lake.members(run) == _expected(_profiles(seed=1))
    with open_workspace(lake.settings) as workspace:
        [last, *_] = workspace.segments.history(SEGMENT)
    assert last.member_count == len(
        [p for p in _profiles(seed=1) if p.country == "FR" and p.web_buyer]
    )


def test_a_small_state_is_planned_here(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below plan_from, the members come to DuckDB: no Spark plan is made."""
    _forbid(monkeypatch, SparkMembers, "classify_and_diff", "planned in Spark")

    run = lake.run()

    assert lake.members(run) == _expected(_profiles(seed=1))


@pytest.mark.parametrize("lake", ["in_spark"], indirect=True)
def test_a_field_spark_prints_otherwise_keeps_the_plan_here(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A floating-point field would print unlike DuckDB: planned here, whatever size."""
    with open_workspace(lake.settings) as workspace:
        workspace.exports.edit(EXPORT, fields={"ltv": "lifetime_value", "s": "score"})
    _forbid(monkeypatch, SparkMembers, "classify_and_diff", "planned in Spark")

    run = lake.run()

    assert lake.members(run) == _expected(_profiles(seed=1))


def test_the_command_line_runs_the_spark_export(lake: Lake) -> None:
    """`audiencesync exports run` as a user runs it: Spark in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")}
    env |= {
        "AUDIENCESYNC_HOME": str(lake.settings.home),
        "AUDIENCESYNC_PROFILES_URL": str(lake.settings.profiles_url),
        "AUDIENCESYNC_PROFILE_KEY": "customer_id",
    }
    done = subprocess.run(  # noqa: S603 - this interpreter, our own CLI
        [sys.executable, "-m", "audiencesync", "exports", "run", EXPORT, "--json"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
        cwd=lake.settings.home.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "example.com" not in done.stderr.lower()
    [part] = json.loads(done.stdout)["segments"]
    members = lake.emulator.list_members(int(part["list_id"]))
    assert members == _expected(_profiles(seed=1))
