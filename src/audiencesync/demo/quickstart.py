"""``audiencesync quickstart``: the whole product on embedded defaults, in one go.

:func:`run_quickstart` takes these steps, reporting each one to a
:class:`QuickstartDisplay`:

1. ``init`` the data folder (kept when it exists) and act as its first admin;
2. start the bundled Iterable emulator on a free loopback port, in a thread,
   with a generated API key that lives only in memory and in the connection
   (encrypted, like any connection's key); its lists are kept in the data folder
   (``emulator/state.json``) so the next quickstart finds them again;
3. generate sample profiles (kept when a sample of that size exists);
4. create three sample segments (kept when they exist);
5. add a connection to the emulator with consent given, or point the existing
   one at the emulator's new port;
6. on the first quickstart of a folder, make three members of the first segment
   known to the emulator and GDPR-forget them (``users/forget``), so Iterable's
   own refusals show beside the invalid addresses the sample holds on purpose;
7. add an export of the three segments (kept when it exists) and run it with
   a progress display: the first run sends everyone, later runs only changes;
8. read back what landed: each list's name (``GET /api/lists``) and size (the
   run's drift check, else ``GET /api/lists/{id}/size``; the emulator's own
   count only when Iterable's limit of 5 size reads a minute is used up);
9. optionally serve until Ctrl-C (the CLI passes ``serve``: the REST API, the
   scheduler and the run worker), the emulator still up.

No API key and no email address is ever shown or logged.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from audiencesync.app.home import initialize
from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.core.emails import is_valid_email
from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig, serve_in_thread
from audiencesync.errors import NotFoundError
from audiencesync.iterable import IterableClient, IterableError, RetryPolicy, Subscriber
from audiencesync.profiles.tables import read_table_info
from audiencesync.segments.rules import parse_where

if TYPE_CHECKING:
    from audiencesync.app.workspace import Workspace
    from audiencesync.settings import Settings
    from audiencesync.sync.history import RunInfo, SegmentRunInfo
    from audiencesync.sync.progress import RunProgress

DEFAULT_PROFILES = 50_000
SAMPLE_SEED = 7
CONNECTION = "Iterable emulator (quickstart)"
EXPORT = "Quickstart"
EMAIL_FIELD = "email"
FORGOTTEN = 3
KEY_BYTES = 16  # 32 hex characters, the shape of an Iterable server-side key
EMULATOR_STATE = Path("emulator") / "state.json"
_ONE_TRY = RetryPolicy(attempts=1, timeout=10.0)


@dataclass(frozen=True, slots=True)
class SampleSegment:
    """A segment the quickstart creates: its name (the list's name) and condition."""

    name: str
    where: str
    description: str


# No condition depends on today's date: a quickstart days later sees the same
# members, instead of a calendar-driven exodus that the removal brake would hold.
SAMPLE_SEGMENTS = (
    SampleSegment(
        "Gold and platinum members",
        "loyalty_tier IN ('gold', 'platinum')",
        "The two top loyalty tiers.",
    ),
    SampleSegment(
        "Opted-in customers in the US",
        "country = 'US' AND marketing_consent = true",
        "US customers who agreed to marketing.",
    ),
    SampleSegment(
        "Big spenders in Europe",
        "lifetime_value > 300 AND country IN ('GB', 'DE', 'FR', 'ES', 'IT', 'NL',"
        " 'SE', 'BE', 'IE')",
        "European customers with a lifetime value over 300.",
    ),
)


@dataclass(frozen=True, slots=True)
class LandedList:
    """One Iterable list after the run, as read back from the emulator."""

    segment: str
    list_id: int
    name: str
    size: int
    size_from: str
    rejected: Mapping[str, int] = field(default_factory=dict)
    invalid_in_source: int = 0


@dataclass(frozen=True, slots=True)
class QuickstartReport:
    """What one quickstart did: the run and the lists it left in Iterable."""

    home: Path
    run: RunInfo
    lists: tuple[LandedList, ...]
    seconds: float


class QuickstartDisplay(Protocol):
    """Where the quickstart reports its steps; the CLI draws them."""

    def step(self, step: str, detail: str) -> None:
        """One step done, in one line."""

    def running(self) -> AbstractContextManager[RunProgress]:
        """Where the run reports its progress while it sends."""

    def run(self, info: RunInfo) -> None:
        """The export run, as ``exports run`` shows it."""

    def landed(self, lists: Sequence[LandedList]) -> None:
        """What the lists in Iterable hold now."""


Serve = Callable[["Settings"], None]


def run_quickstart(
    settings: Settings,
    *,
    display: QuickstartDisplay,
    profiles: int = DEFAULT_PROFILES,
    serve: Serve | None = None,
    web_address: str = "",
) -> QuickstartReport:
    """Set up (or reuse) everything, run the export, show what landed, then serve.

    ``serve`` is called with the emulator still up and returns when serving
    ends (e.g. on Ctrl-C); without it the emulator stops at once. Before
    serving, the web pages' address (``web_address``) is shown with how to sign
    in: an administrator without a password gets a generated one, shown once.
    """
    started = time.perf_counter()
    report = initialize(settings)
    folder = "created" if report.home_created else "kept"
    display.step("Data folder", f"{report.home} ({folder}); acting as {report.admin}")
    acting = settings.model_copy(update={"user": report.admin})
    state = report.home / EMULATOR_STATE
    with open_workspace(acting) as workspace, _emulator(workspace) as emulator:
        display.step(
            "Emulator",
            f"Iterable emulator on {emulator.base_url} (email project); its API key"
            f" was generated for this folder and is never shown; lists kept in {state}",
        )
        _set_up(workspace, emulator, profiles=profiles, display=display)
        with display.running() as progress:
            info = run_export(workspace, EXPORT, progress=progress)
        display.run(info)
        lists = asyncio.run(_read_back(info, emulator))
        display.landed(lists)
        seconds = time.perf_counter() - started
        display.step("Done", f"in {seconds:.1f} s")
        if serve is not None:
            display.step("Web pages", _sign_in_line(workspace, web_address))
            display.step(
                "Serving",
                f"the REST API, the scheduler and the run worker; the emulator"
                f" stays up at {emulator.base_url}. Try `audiencesync runs list"
                f" --home {report.home}` in another shell. Ctrl-C stops.",
            )
            serve(acting)
    if serve is not None:
        display.step("Stopped", f"emulator down; its lists are kept in {state}")
    return QuickstartReport(report.home, info, lists, seconds)


def _sign_in_line(workspace: Workspace, address: str) -> str:
    """How to sign in to the pages; a password made now if the admin has none."""
    admin = workspace.actor.name
    if workspace.users.get(admin).has_password:
        return f"{address} : sign in as {admin} with your password"
    password = secrets.token_urlsafe(12)
    workspace.users.set_password(admin, password)
    return (
        f"{address} : sign in as {admin} with password {password} (made now and"
        " shown only this once; change it with `audiencesync users set-password"
        f" {admin}`)"
    )


# --- the emulator ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Running:
    """The emulator of this quickstart: its object, address and key."""

    emulator: Emulator
    base_url: str
    api_key: str = field(repr=False)


@contextmanager
def _emulator(workspace: Workspace) -> Iterator[_Running]:
    """The emulator on a free loopback port, knowing only this folder's key."""
    key = _api_key(workspace)
    state = workspace.settings.home / EMULATOR_STATE
    state.parent.mkdir(parents=True, exist_ok=True)
    config = EmulatorConfig(keys=(ApiKeySpec(key),), state_file=state)
    emulator = Emulator(config)
    with serve_in_thread(emulator) as base_url:
        yield _Running(emulator, base_url, key)


def _api_key(workspace: Workspace) -> str:
    """The key of the quickstart's connection, or a new random one."""
    try:
        credentials = workspace.connections.api_key_for_export(CONNECTION)
    except NotFoundError:
        return secrets.token_hex(KEY_BYTES)
    return credentials.api_key.reveal()


# --- setting up ------------------------------------------------------------


def _set_up(
    workspace: Workspace,
    emulator: _Running,
    *,
    profiles: int,
    display: QuickstartDisplay,
) -> None:
    """Profiles, segments, connection and export: each made, or kept if it exists."""
    _ensure_profiles(workspace, profiles, display)
    _ensure_segments(workspace, display)
    if _ensure_connection(workspace, emulator, display):
        asyncio.run(_forget_a_few(workspace, emulator, display))
    _ensure_export(workspace, display)


def _ensure_profiles(
    workspace: Workspace, count: int, display: QuickstartDisplay
) -> None:
    settings = workspace.settings
    try:
        table = read_table_info(settings.profiles_folder, settings.profile_table)
    except NotFoundError:
        table = None
    if table is not None and (table.generator is None or table.rows == count):
        display.step("Profiles", f"{table.rows:,} in table {table.name} (kept)")
        return
    generated = workspace.profiles.generate(count=count, seed=SAMPLE_SEED)
    made = generated.files[0]
    display.step(
        "Profiles",
        f"{made.rows:,} sample customers generated into table {made.table}"
        " (1 % malformed and 0.5 % duplicate emails, on purpose)",
    )


def _ensure_segments(workspace: Workspace, display: QuickstartDisplay) -> None:
    for sample in SAMPLE_SEGMENTS:
        try:
            workspace.segments.get(sample.name)
            verb = "kept"
        except NotFoundError:
            workspace.segments.create(
                sample.name, parse_where(sample.where), description=sample.description
            )
            verb = "created"
        members = workspace.segments.count(sample.name)
        display.step("Segment", f"{sample.name!r}: {members:,} members ({verb})")


def _ensure_connection(
    workspace: Workspace, emulator: _Running, display: QuickstartDisplay
) -> bool:
    """The connection to this emulator; True when it was created now."""
    service = workspace.connections
    try:
        service.get(CONNECTION)
    except NotFoundError:
        service.add(
            CONNECTION, api_key=emulator.api_key, base_url=emulator.base_url,
            agreed=True,
        )  # fmt: skip
        display.step(
            "Connection",
            f"{CONNECTION!r} added: key checked, data privacy statement agreed,"
            f" {workspace.actor.name} is its export user",
        )
        return True
    service.set_address(CONNECTION, base_url=emulator.base_url)
    display.step("Connection", f"{CONNECTION!r} kept, pointed at {emulator.base_url}")
    return False


def _ensure_export(workspace: Workspace, display: QuickstartDisplay) -> None:
    try:
        workspace.exports.get(EXPORT)
    except NotFoundError:
        workspace.exports.add(
            EXPORT,
            connection=CONNECTION,
            email_field=EMAIL_FIELD,
            segments=[sample.name for sample in SAMPLE_SEGMENTS],
        )
        verb = "added"
    else:
        verb = "kept"
    display.step(
        "Export",
        f"{EXPORT!r} ({verb}): column {EMAIL_FIELD} to Iterable, "
        f"{len(SAMPLE_SEGMENTS)} segments, each into the list of its name",
    )


async def _forget_a_few(
    workspace: Workspace, emulator: _Running, display: QuickstartDisplay
) -> None:
    """Have Iterable forget a few members of the first segment (GDPR requests)."""
    segment = SAMPLE_SEGMENTS[0].name
    preview = workspace.segments.preview(segment, limit=100, columns=[EMAIL_FIELD])
    emails = preview.members.column(EMAIL_FIELD).to_pylist()
    found = (str(raw or "").strip().lower() for raw in emails)
    chosen = list(dict.fromkeys(email for email in found if is_valid_email(email)))
    chosen = chosen[:FORGOTTEN]
    async with IterableClient(emulator.api_key, base_url=emulator.base_url) as client:
        for email in chosen:  # people known to Iterable who asked to be forgotten
            await client.update_user(Subscriber(email=email))
            await client.forget_user(email=email)
    display.step(
        "GDPR",
        f"{len(chosen)} members of {segment!r} asked Iterable to forget them:"
        " the emulator refuses them from now on, as Iterable does",
    )


# --- reading back ----------------------------------------------------------


async def _read_back(info: RunInfo, emulator: _Running) -> tuple[LandedList, ...]:
    async with IterableClient(
        emulator.api_key, base_url=emulator.base_url, retry=_ONE_TRY
    ) as client:
        names = {found.id: found.name for found in await client.list_lists()}
        landed = []
        for segment in info.segments:
            if segment.list_id is None:
                continue
            size, size_from = await _size(client, segment.list_id, segment, emulator)
            landed.append(
                LandedList(
                    segment=segment.segment_name,
                    list_id=segment.list_id,
                    name=names.get(segment.list_id, "(no longer in Iterable)"),
                    size=size,
                    size_from=size_from,
                    rejected=dict(segment.rejected),
                    invalid_in_source=segment.invalid_in_source,
                )
            )
        return tuple(landed)


async def _size(
    client: IterableClient,
    list_id: int,
    segment: SegmentRunInfo,
    emulator: _Running,
) -> tuple[int, str]:
    """The list's size and where it was read (5 size reads a minute at most)."""
    if segment.actual_size is not None:
        return segment.actual_size, "the run's drift check"
    try:
        return await client.get_list_size(list_id), "GET /api/lists/{id}/size"
    except IterableError:
        count = len(emulator.emulator.list_members(list_id))
        return count, "the emulator's memory (size reads used up)"
