"""The root group's commands: known by name, each module loaded once, on demand."""

from __future__ import annotations

from typer.core import TyperCommand

from audiencesync.cli.registry import Entry, LazyCommands

ENTRIES = (
    Entry("system", "schedule", "Show the schedule."),
    Entry("serve", "schedule", "Serve."),
    Entry("users", "users", "Manage users."),
)


class FakeLoader:
    """Loads a module's commands by name, and remembers which modules it loaded."""

    def __init__(self) -> None:
        self.loaded: list[str] = []

    def __call__(self, module: str) -> dict[str, TyperCommand]:
        self.loaded.append(module)
        names = [entry.name for entry in ENTRIES if entry.module == module]
        return {name: TyperCommand(name, help=f"{name} for real") for name in names}


def test_names_and_summaries_load_no_module() -> None:
    """Listing the commands and their summaries imports nothing."""
    loader = FakeLoader()
    commands = LazyCommands(ENTRIES, loader=loader)
    summaries = [commands.summary(name) for name in commands]
    assert [command.help for command in summaries if command] == [
        "Show the schedule.",
        "Serve.",
        "Manage users.",
    ]
    assert loader.loaded == []


def test_a_command_loads_its_module_once_with_its_siblings() -> None:
    """Reading ``system`` loads its module; ``serve``, from the same one, is kept."""
    loader = FakeLoader()
    commands = LazyCommands(ENTRIES, loader=loader)
    assert commands["system"].help == "system for real"
    assert commands["serve"].help == "serve for real"
    assert loader.loaded == ["schedule"]


def test_an_unknown_name_is_no_command() -> None:
    """``get`` of a name no entry has is None, and loads nothing."""
    loader = FakeLoader()
    commands = LazyCommands(ENTRIES, loader=loader)
    assert commands.get("exprts") is None
    assert commands.summary("exprts") is None
    assert loader.loaded == []
