"""Segment, export and connection names: no invisible look-alikes; safe display."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from audiencesync.connections.records import normalize_name as connection_name
from audiencesync.core.naming import shown
from audiencesync.errors import ConfigError, RuleError
from audiencesync.exports.checks import normalize_export_name
from audiencesync.segments.names import normalize_name as segment_name
from audiencesync.settings import load_settings
from audiencesync.store import Segment
from audiencesync.store.database import Database

NORMALIZERS: dict[str, Callable[[str], str]] = {
    "segment": segment_name,
    "export": normalize_export_name,
    "connection": connection_name,
}
INVISIBLE = [
    ("\u200b", "U+200B ZERO WIDTH SPACE"),
    ("\u200c", "U+200C ZERO WIDTH NON-JOINER"),
    ("\u200d", "U+200D ZERO WIDTH JOINER"),
    ("\u2060", "U+2060 WORD JOINER"),
    ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("\u200e", "U+200E LEFT-TO-RIGHT MARK"),
    ("\u200f", "U+200F RIGHT-TO-LEFT MARK"),
    ("\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING"),
    ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
    ("\u00ad", "U+00AD SOFT HYPHEN"),
    ("\udcff", "U+DCFF, a byte that is not UTF-8 text"),
    ("\x1b", "U+001B"),
]


@pytest.mark.parametrize("kind", list(NORMALIZERS))
@pytest.mark.parametrize(
    ("char", "described"), INVISIBLE, ids=[code for _, code in INVISIBLE]
)
def test_invisible_characters_are_refused_in_names(
    kind: str, char: str, described: str
) -> None:
    """Each invisible character is refused, named by code point and position."""
    with pytest.raises(ConfigError) as caught:
        NORMALIZERS[kind](f"VIP{char}France")
    message = str(caught.value)
    assert f"found {described} at character 4" in message
    assert message.startswith(f"{kind.capitalize()} names cannot contain")
    assert "\n" not in message
    assert char not in message


@pytest.mark.parametrize("kind", list(NORMALIZERS))
@pytest.mark.parametrize(
    "name",
    ["Clientes de España", "VIP 🇫🇷", "顧客", "Über-Kunden", "a\u00a0b", "عملاء"],
    ids=["accents", "flag", "cjk", "umlaut", "no-break-space", "arabic"],
)
def test_visible_names_are_kept(kind: str, name: str) -> None:
    """Printable names in any script are kept exactly."""
    assert NORMALIZERS[kind](f"  {name} ") == name


def test_segment_names_keep_raising_rule_errors() -> None:
    """Segments keep their error class (fix the rule), the others ConfigError."""
    with pytest.raises(RuleError):
        segment_name("a\u202eb")


@pytest.mark.parametrize(
    ("text", "display"),
    [
        ("plain", "plain"),
        ("a\u202eb", "a\\u202eb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("tab\there", "tab\\x09here"),
        ("bom\ufeff", "bom\\ufeff"),
    ],
    ids=["plain", "override", "escape-sequence", "tab", "bom"],
)
def test_shown_escapes_invisible_and_control_characters(
    text: str, display: str
) -> None:
    """Text for a terminal has its invisible and control characters escaped."""
    assert shown(text) == display


OLD = "F\u202eR"  # a name saved before names were checked


def _run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(app, [*args, "--home", str(home)])


def test_show_and_list_escape_descriptions_conditions_and_old_names(
    tmp_path: Path,
) -> None:
    """A name saved before the check, a description with escapes: shown escaped."""
    home = tmp_path / "home"
    source = tmp_path / "c.csv"
    source.write_text("customer_id,email,country\nC1,a@example.com,FR\n", "utf-8")
    assert _run(home, "init").exit_code == 0
    assert _run(home, "profiles", "import", str(source)).exit_code == 0
    described = "\x1b[2J\u202eVIP [bold]x[/]"
    result = _run(
        home, "segments", "create", "FR", "--where", "country <> 'X\u202eY'",
        "--description", described,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    database_url = load_settings(home=home).database
    with Database.open(database_url) as database, database.session() as session:
        session.execute(update(Segment).values(name=OLD, name_key=OLD.lower()))

    listed_result = _run(home, "segments", "list")
    assert listed_result.exit_code == 0, (listed_result.output, listed_result.exception)
    listed = listed_result.stdout
    shown_result = _run(home, "segments", "show", OLD)
    assert shown_result.exit_code == 0, shown_result.output
    shown_text = shown_result.stdout

    for output in (listed, shown_text):
        assert "\u202e" not in output
        assert "\x1b" not in output
        assert "F\\u202eR" in output
    assert "\\x1b[2J\\u202eVIP [bold]x[/]" in shown_text
    assert "'X\\u202eY'" in shown_text
    data = json.loads(_run(home, "segments", "show", OLD, "--json").stdout)
    assert data["description"] == described
