"""A data folder ready for runs: profiles, a segment, a shared connection, an export.

Shared by the run service, worker and runs API tests. The emulator serves
Iterable on a loopback port in a thread; runs really send to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from audiencesync.app.context import AppContext
from audiencesync.app.views.runs import RunView
from audiencesync.app.workspace import Workspace
from audiencesync.auth.directory import resolve_actor
from audiencesync.auth.roles import Role
from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig
from audiencesync.segments.where import parse_where
from tests.canary import CANARY_API_KEY

EXPORT = "Newsletter"
SEGMENT = "France"
HEADER = "customer_id,email,country\n"
CUSTOMERS = HEADER + (
    "C1,ana@example.com,FR\n"
    "C2,ben@example.com,FR\n"
    "C3,cleo@example.com,FR\n"
    "C4,=1+1,FR\n"  # not an address: a reject of the run
    "C5,dan@example.com,DE\n"
)
FRANCE = frozenset({"ana@example.com", "ben@example.com", "cleo@example.com"})
EXODUS = HEADER + "C1,ana@example.com,FR\nC5,dan@example.com,DE\n"
"""Two of France's three leave: more than the export's removal brake."""


def make_emulator() -> Emulator:
    """An emulator knowing the canary key, without rate limits."""
    return Emulator(
        EmulatorConfig(keys=(ApiKeySpec(CANARY_API_KEY),), rate_limits_enabled=False)
    )


@dataclass
class Stage:
    """The data folder's context, its CSV source and the emulator behind it."""

    context: AppContext
    source: Path
    emulator: Emulator

    @contextmanager
    def workspace(self, user: str = "admin") -> Iterator[Workspace]:
        """A workspace as ``user``."""
        actor = resolve_actor(self.context.database, user)
        with self.context.workspace(actor) as opened:
            yield opened

    def reimport(self, text: str) -> None:
        """Replace the profiles with ``text`` (CSV)."""
        self.source.write_text(text, encoding="utf-8")
        with self.workspace() as workspace:
            workspace.profiles.import_file(self.source, replace=True)

    def members(self, run: RunView) -> frozenset[str]:
        """The export's list (of segment France) as the emulator holds it."""
        (part,) = run.segments
        return frozenset(self.emulator.list_members(part.list_id or 0))

    def held_run(self) -> RunView:
        """Run the export, let two of France's three leave, run again: Held."""
        with self.workspace() as workspace:
            workspace.runs.run(EXPORT)
        self.reimport(EXODUS)
        with self.workspace() as workspace:
            held = workspace.runs.run(EXPORT)
        assert held.status == "Held", held.error
        return held


def stage(context: AppContext, folder: Path, url: str, emulator: Emulator) -> Stage:
    """Profiles, segment France, a shared connection, export Newsletter (brake 10)."""
    source = folder / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    staged = Stage(context, source, emulator)
    with staged.workspace() as workspace:
        for role in ("contributor", "viewer"):
            if role not in {user.name for user in workspace.users.list_all()}:
                workspace.users.add(role, role=Role(role), password="correct horse 1")
        workspace.profiles.import_file(source)
        workspace.segments.create(SEGMENT, parse_where("country = 'FR'"))
        workspace.connections.add(
            "Iterable", api_key=CANARY_API_KEY, base_url=url, shared=True, agreed=True
        )
        workspace.exports.add(
            EXPORT,
            connection="Iterable",
            email_field="email",
            segments=[SEGMENT],
            removal_brake=10,
        )
    emulator.reset_requests()  # the key checks of the connection
    return staged


class CtrlC:
    """A progress receiver that presses Ctrl-C after the first acknowledged batch."""

    def segment_started(self, segment: str, *, rows: int) -> None:
        """Nothing to do."""

    def advanced(self, segment: str, *, rows: int, rate: float | None) -> None:
        """Stop the run as Ctrl-C would."""
        del segment, rows, rate
        raise KeyboardInterrupt

    def segment_finished(self, segment: str) -> None:
        """Nothing to do."""


def interrupted_run(staged: Stage) -> RunView:
    """A run stopped by Ctrl-C after its first batch: Interrupted (resumable)."""
    with staged.workspace() as workspace:
        with suppress(KeyboardInterrupt):
            workspace.runs.run(EXPORT, progress=CtrlC())
        (run,) = workspace.runs.list().items
    assert run.status == "Interrupted (resumable)", run.error
    return run
