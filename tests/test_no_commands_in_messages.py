"""No message outside the command line names a command (issue 12) or a flag.

Messages may be stored in run records, e-mailed or returned by the API, and read
far from a shell: they say what to do in words, and each interface renders its
own hint from the error's code and field (:mod:`audiencesync.cli.hints`). This
scans every string literal of the product outside ``cli/`` and ``launch/`` (the
command line), ``demo/`` (it prints commands on purpose) and ``emulator/`` (not
the product); docstrings may name commands and flags.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import audiencesync

PACKAGE = Path(audiencesync.__file__).parent
SKIPPED = frozenset({"cli", "launch", "demo", "emulator"})
WORDS = "init|runs|exports|segments|connections|users|profiles|schedule|serve|refresh"
COMMAND = re.compile(
    rf"audiencesync\s+({WORDS})\b"  # audiencesync runs approve 12
    rf"|`\s*(audiencesync\b|({WORDS})\s)"  # `runs approve 12`
)
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")  # --removal-brake, not a--b or ---


def _docstrings(tree: ast.Module) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        ):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                found.add(id(body[0].value))
    return found


def _texts(tree: ast.Module) -> list[tuple[int, str]]:
    """Every string literal but docstrings; an f-string's fields read ``{}``."""
    docstrings = _docstrings(tree)
    texts: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = (
                part.value
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
                else "{}"
                for part in node.values
            )
            texts.append((node.lineno, "".join(parts)))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            texts.append((node.lineno, node.value))
    return texts


def commands_in(source: str) -> list[str]:
    """``line: text`` of each string literal in ``source`` that names a command."""
    return _matching(COMMAND, source)


def flags_in(source: str) -> list[str]:
    """``line: text`` of each string literal in ``source`` that names a flag."""
    return _matching(FLAG, source)


def _matching(pattern: re.Pattern[str], source: str) -> list[str]:
    return [
        f"{line}: {text!r}"
        for line, text in _texts(ast.parse(source))
        if pattern.search(text)
    ]


def _modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in SKIPPED
    ]


@pytest.mark.parametrize(
    "source",
    [
        'msg = f"Approve it with `audiencesync runs approve {run_id}`."',
        'msg = "Run audiencesync init first."',
        'msg = "Remove it (`exports remove NAME`)."',
        'msg = ("Resume it with `audiencesync runs"\n " resume 3`.")',
    ],
    ids=["f-string", "bare", "backticked", "implicitly joined"],
)
def test_the_scan_finds_a_command(source: str) -> None:
    """The guard is not blind: each way of writing a command is found."""
    assert commands_in(source)


def test_the_scan_allows_docstrings_and_plain_words() -> None:
    """Docstrings may name commands; words about audiencesync are no command."""
    source = (
        'def f():\n    """Like ``audiencesync runs approve``."""\n'
        '    return "You are an audiencesync administrator."\n'
    )
    assert commands_in(source) == []


def test_no_message_outside_the_command_line_names_a_command() -> None:
    """Stored, mailed and API texts say what to do in words, never a command."""
    found = [
        f"{path.relative_to(PACKAGE)}:{hit}"
        for path in _modules()
        for hit in commands_in(path.read_text(encoding="utf-8"))
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        'msg = f"--removal-brake {percent} is out of range."',
        'msg = "Give either --region or --base-url, not both."',
        'OPTIONS = {"email": "--email-field"}',
        'msg = ("Keep one"\n " --field.")',
    ],
    ids=["f-string", "mid-sentence", "constant", "implicitly joined"],
)
def test_the_scan_finds_a_flag(source: str) -> None:
    """The guard is not blind: each way of writing a flag is found."""
    assert flags_in(source)


def test_the_scan_allows_docstrings_and_dashes() -> None:
    """Docstrings may name flags; dashes that are no flag are no finding."""
    source = (
        'def f():\n    """Like ``--where``."""\n'
        '    return ["-- a SQL comment", "A--B", "2024-01-01", "---"]\n'
    )
    assert flags_in(source) == []


def test_no_message_outside_the_command_line_names_a_flag() -> None:
    """API and stored texts name settings in words; the CLI adds the flag."""
    found = [
        f"{path.relative_to(PACKAGE)}:{hit}"
        for path in _modules()
        for hit in flags_in(path.read_text(encoding="utf-8"))
    ]
    assert found == []
