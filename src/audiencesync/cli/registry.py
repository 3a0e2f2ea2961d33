"""The top-level commands by name: which module adds each, and its one-line help.

``audiencesync --help`` and ``--version`` must not import the service layer
(design section 8: a command imports what it uses). The root group therefore
knows each top-level command only by an :class:`Entry` here and imports the
module that registers it when the command is asked for: running it, its own
``--help``, or a test reading the command tree. The root help lists the
summaries below without importing anything; a test checks that each summary is
the first paragraph of the real command's help.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass

import typer
from typer._click import Command  # typer vendors click; no public alias
from typer.core import TyperCommand
from typer.main import get_group

_CLI = "audiencesync.cli"


@dataclass(frozen=True, slots=True)
class Entry:
    """A top-level command: its name, the module registering it, its summary."""

    name: str
    module: str  # a module of audiencesync.cli with ``register(app)``
    summary: str  # the first paragraph of the command's help, as listed


ENTRIES: tuple[Entry, ...] = (  # in the order ``--help`` lists them
    Entry("emulator", "emulator", "Serve a local Iterable emulator."),
    Entry(
        "init",
        "init",
        "Create or upgrade the data folder, database, secret key and first admin.",
    ),
    Entry(
        "audit",
        "audit",
        "Show the audit log, newest first: who changed what, when, on which target.",
    ),
    Entry(
        "system",
        "schedule",
        "Show the refresh schedule and each export's last run and next run.",
    ),
    Entry(
        "refresh",
        "schedule",
        "Refresh now: re-import changed sources, count segments, run refresh exports.",
    ),
    Entry(
        "serve",
        "schedule",
        "Serve the REST API, the scheduler and the run worker until Ctrl-C.",
    ),
    Entry(
        "walkthrough",
        "walkthrough",
        "Tour the Iterable client against the bundled emulator (what make demo runs).",
    ),
    Entry(
        "quickstart",
        "quickstart",
        "Set up everything on embedded defaults, run an export, show what landed.",
    ),
    Entry("profiles", "profiles", "Import, generate and describe customer profiles."),
    Entry(
        "segments",
        "segments",
        "Define segments over the profiles and look at their members.",
    ),
    Entry("runs", "exports", "The history of export runs."),
    Entry(
        "exports",
        "exports",
        "Set up exports of segments to Iterable lists (saving never runs them).",
    ),
    Entry(
        "users",
        "users",
        "Manage users, their roles and their API tokens (administrators).",
    ),
    Entry(
        "connections",
        "connections",
        "Connect Iterable projects: keys, consent, sharing (administrators).",
    ),
    Entry(
        "schedule",
        "schedule",
        "The system refresh schedule (administrators change it).",
    ),
)


def load_module_commands(module: str) -> dict[str, Command]:
    """Import ``module`` of the CLI and return the commands its ``register`` adds."""
    imported = importlib.import_module(f"{_CLI}.{module}")
    register: Callable[[typer.Typer], None] = imported.register
    host = typer.Typer()
    register(host)
    return dict(get_group(host).commands)


Loader = Callable[[str], Mapping[str, Command]]


class LazyCommands(MutableMapping[str, Command]):
    """The root group's commands, each module imported on first access.

    Names and summaries are known without importing (so listing, completion and
    typo suggestions are free); reading a command imports the module that
    registers it, once, and keeps the module's other top-level commands too.
    """

    def __init__(
        self,
        entries: tuple[Entry, ...] = ENTRIES,
        *,
        loaded: Mapping[str, Command] | None = None,
        loader: Loader = load_module_commands,
    ) -> None:
        self._entries = {entry.name: entry for entry in entries}
        self._loaded: dict[str, Command] = dict(loaded or {})
        self._load = loader

    def summary(self, name: str) -> Command | None:
        """A stand-in listing ``name`` in help without importing it; it cannot run."""
        if name in self._loaded or name not in self._entries:
            return self._loaded.get(name)
        return TyperCommand(name, help=self._entries[name].summary)

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded:
            module = self._entries[name].module  # KeyError: no such command
            self._loaded.update(
                (key, command)
                for key, command in self._load(module).items()
                if key in self._entries and self._entries[key].module == module
            )
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._entries.pop(name, None)
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._entries
        yield from (name for name in self._loaded if name not in self._entries)

    def __len__(self) -> int:
        return len(self._entries.keys() | self._loaded.keys())
