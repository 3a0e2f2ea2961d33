"""A data folder with profiles, two segments, a connection to the emulator, an export.

Shared by the runner's end-to-end tests: the emulator serves on a real port in
a thread, the control plane is SQLite in the test's folder.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from audiencesync.app.home import initialize
from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator import Emulator, EmulatorConfig, serve_in_thread
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.where import parse_where
from audiencesync.settings import Settings, load_settings
from audiencesync.sync.history import RunInfo
from audiencesync.sync.lock import RunInProgressError

HEADER = "customer_id,email,country,plan\n"
FIRST = HEADER + (
    "C1,ana@example.com,FR,gold\n"
    "C2,ben@example.com,FR,free\n"
    "C3,cleo@example.com,DE,gold\n"
    "C4,dan@example.com,DE,free\n"
    "C5,not-an-email,FR,free\n"  # malformed
    "C6,Ana@Example.com ,FR,gold\n"  # a duplicate of C1 once normalised
    "C7,eve@example.com,FR,free\n"
)
# ben leaves France, fay joins it, ana's plan changes; Germany is unchanged.
SECOND = HEADER + (
    "C1,ana@example.com,FR,silver\n"
    "C2,ben@example.com,DE,free\n"
    "C3,cleo@example.com,DE,gold\n"
    "C4,dan@example.com,DE,free\n"
    "C5,not-an-email,FR,free\n"
    "C6,Ana@Example.com ,FR,gold\n"
    "C7,eve@example.com,FR,free\n"
    "C8,fay@example.com,FR,free\n"
)
EXPORT = "Newsletter"


@dataclass
class Place:
    """A data folder, its CSV source, and the emulator serving Iterable."""

    settings: Settings
    source: Path
    emulator: Emulator
    url: str

    def run(self) -> RunInfo:
        """Run the export once from a fresh workspace."""
        with open_workspace(self.settings) as opened:
            return run_export(opened, EXPORT)

    def reimport(self, text: str) -> None:
        """Replace the profiles with ``text``."""
        self.source.write_text(text, encoding="utf-8")
        import_profiles(self.settings, self.source, replace=True)

    def members(self, run: RunInfo) -> dict[str, frozenset[str]]:
        """Each segment's list as the emulator holds it, by segment name."""
        return {
            part.segment_name: self.emulator.list_members(part.list_id or 0)
            for part in run.segments
        }

    def forget(self, email: str) -> None:
        """Make the user in Iterable, then have Iterable forget them (GDPR)."""
        forget_in_iterable(self.url, email)

    def crash_after_first_batch(self) -> None:
        """Run the export and die right after its first acknowledged batch."""

        def crash() -> None:
            raise Crash

        with open_workspace(self.settings) as workspace, pytest.raises(Crash):
            run_export(workspace, EXPORT, progress=OnBatch(1, crash))

    def run_while_another_tries(self) -> RunInfo:
        """Run the export; once it has sent a batch, a second run must be refused."""
        running, done = threading.Event(), threading.Event()
        results: list[RunInfo] = []

        def pause() -> None:
            running.set()
            done.wait(timeout=30)

        def first() -> None:
            with open_workspace(self.settings) as workspace:
                progress = OnBatch(1, pause)
                results.append(run_export(workspace, EXPORT, progress=progress))

        thread = threading.Thread(target=first)
        thread.start()
        assert running.wait(timeout=30)
        try:
            with (
                open_workspace(self.settings) as workspace,
                pytest.raises(RunInProgressError, match="already running"),
            ):
                run_export(workspace, EXPORT)
        finally:
            done.set()
            thread.join(timeout=60)
        [run] = results
        return run

    def sent_items(self) -> dict[str, int]:
        """Identifiers sent per bulk endpoint since the last reset."""
        return sent_items(self.emulator)


def sent_items(emulator: Emulator) -> dict[str, int]:
    """Identifiers ``emulator`` received per bulk endpoint since its last reset."""
    totals: dict[str, int] = {}
    for request in emulator.requests:
        if request.endpoint in {"lists/subscribe", "lists/unsubscribe"}:
            totals[request.endpoint] = totals.get(request.endpoint, 0) + request.items
    return totals


@contextmanager
def make_place(
    tmp_path: Path,
    *,
    profiles: str = "",
    config: EmulatorConfig | None = None,
    database_url: str | None = None,
    run_data: Path | None = None,
    secret_key: str | None = None,
) -> Iterator[Place]:
    """Profiles, two segments, a shared connection to the emulator, an export.

    The control plane is SQLite in the folder unless ``database_url`` is given;
    run files go to ``run_data`` when given (else the folder).
    """
    emulator = Emulator(config or EmulatorConfig(rate_limits_enabled=False))
    with serve_in_thread(emulator) as url:
        settings = load_settings(
            home=tmp_path / "home", database_url=database_url, run_data=run_data,
            secret_key=secret_key,
        )  # fmt: skip
        initialize(settings)
        source = tmp_path / "customers.csv"
        source.write_text(profiles or FIRST, encoding="utf-8")
        import_profiles(settings, source)
        with open_workspace(settings) as workspace:
            workspace.segments.create("France", parse_where("country = 'FR'"))
            workspace.segments.create("Germany", parse_where("country = 'DE'"))
            workspace.connections.add(
                "Iterable",
                api_key=DEFAULT_API_KEY,
                base_url=url,
                shared=True,
                agreed=True,
            )
            workspace.exports.add(
                EXPORT,
                connection="Iterable",
                email_field="email",
                segments=["France", "Germany"],
                fields={"plan": "plan"},
                removal_brake=50,  # lists of 2-3: one leaver is a third of one
            )
        yield Place(settings, source, emulator, url)


FRANCE = frozenset({"ana@example.com", "ben@example.com", "eve@example.com"})
GERMANY = frozenset({"cleo@example.com", "dan@example.com"})

MANY = 2_500  # French members: three subscribe batches of at most 1,000
CROWD = HEADER + "".join(f"P{i},p{i:05d}@example.com,FR,free\n" for i in range(MANY))


class OnBatch:
    """A progress receiver that calls ``act`` after the ``nth`` acknowledged batch."""

    def __init__(self, nth: int, act: object) -> None:
        self.nth, self.act, self.seen = nth, act, 0

    def segment_started(self, segment: str, *, rows: int) -> None:
        """Nothing to do."""

    def advanced(self, segment: str, *, rows: int, rate: float | None) -> None:
        """Count batches; act once on the nth."""
        del segment, rows, rate
        self.seen += 1
        if self.seen == self.nth and callable(self.act):
            self.act()

    def segment_finished(self, segment: str) -> None:
        """Nothing to do."""


class Crash(BaseException):
    """The process dies right after a checkpoint (nothing in the runner catches it)."""


def forget_in_iterable(url: str, email: str) -> None:
    """Make the user in the emulator at ``url``, then have it forget them (GDPR)."""
    for path in ("users/update", "users/forget"):
        answer = httpx.post(
            f"{url}/api/{path}",
            json={"email": email},
            headers={"Api-Key": DEFAULT_API_KEY},
        )
        assert answer.status_code == 200
