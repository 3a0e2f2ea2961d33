"""``audiencesync segments ...``: define segments and look at their members.

Each command parses its flags, opens the workspace, calls one
:class:`~audiencesync.segments.service.SegmentService` method and renders the
result as text (Rich) or, with ``--json``, as JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from audiencesync.cli.options import AsOption, HomeOption, JsonOption, workspace_for
from audiencesync.cli.render import cell, echo_json, plain, print_table, when
from audiencesync.cli.render import members as members_text
from audiencesync.errors import ConfigError, EvaluationError, RuleError

if TYPE_CHECKING:
    from audiencesync.segments.rules import Definition
    from audiencesync.segments.service import Preview, SegmentInfo, SegmentService

segments_app = typer.Typer(
    name="segments",
    help="Define segments over the profiles and look at their members.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The segment's name.")]
WhereOption = Annotated[
    str | None,
    typer.Option(
        "--where",
        help="A SQL condition over profile columns, e.g. \"country = 'FR'\".",
        show_default=False,
    ),
]
RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="A JSON rules file (or - for stdin); see docs/segments.md.",
        show_default=False,
    ),
]
DescriptionOption = Annotated[
    str | None,
    typer.Option("--description", help="What the segment is for.", show_default=False),
]


def register(app: typer.Typer) -> None:
    """Add the ``segments`` command group to ``app``."""
    app.add_typer(segments_app)


@contextmanager
def _service(home: Path | None, as_user: str | None) -> Iterator[SegmentService]:
    with workspace_for(home, as_user) as workspace:
        yield workspace.segments


@segments_app.command("create")
def create(
    *,
    name: NameArgument,
    where: WhereOption = None,
    rules: RulesOption = None,
    description: DescriptionOption = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Save a segment; its name becomes the Iterable list's name exactly.

    Example: audiencesync segments create "France VIP"
    --where "country = 'FR' AND lifetime_value > 1000"
    """
    definition = _definition(where, rules, required=True)
    if definition is None:  # pragma: no cover - required=True raises instead
        return
    with _service(home, as_user) as service:
        info = service.create(name, definition, description=description)
    _print_info(info, as_json=as_json, verb="Created")


@segments_app.command("edit")
def edit(
    *,
    name: NameArgument,
    new_name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="A new name (the list keeps its identity).",
            show_default=False,
        ),
    ] = None,
    where: WhereOption = None,
    rules: RulesOption = None,
    description: DescriptionOption = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rename a segment, or change its definition or description.

    Example: audiencesync segments edit "France VIP" --description "Top French buyers"
    """
    definition = _definition(where, rules, required=False)
    if new_name is None and definition is None and description is None:
        msg = "Nothing to change: give --name, --where, --rules or --description."
        raise ConfigError(msg)
    with _service(home, as_user) as service:
        info = service.update(
            name, new_name=new_name, definition=definition, description=description
        )
    _print_info(info, as_json=as_json, verb="Updated")


@segments_app.command("list")
def list_segments(
    *,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List segments with their member counts and last evaluation.

    Example: audiencesync segments list --json
    """
    from audiencesync.app.views import as_json as views_json
    from audiencesync.app.views.segments import SegmentView

    with _service(home, as_user) as service:
        infos = service.list_all()
    if as_json:
        echo_json(views_json([SegmentView.of(info) for info in infos]))
        return
    if not infos:
        typer.echo("No segments yet. Create one with `audiencesync segments create`.")
        return
    table = Table("Segment", "Members", "Evaluated", "Definition")
    for info in infos:
        table.add_row(
            cell(info.name),
            _count(info.member_count),
            when(info.evaluated_at),
            cell(info.summary),
        )
    print_table(table)


@segments_app.command("show")
def show(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a segment's definition, member count and count history.

    Example: audiencesync segments show "France VIP"
    """
    from audiencesync.app.views.segments import SegmentDetailView

    with _service(home, as_user) as service:
        info = service.get(name)
        history = service.history(info.name)
    if as_json:
        echo_json(SegmentDetailView.with_history(info, history).as_json())
        return
    _print_info(info, as_json=False, verb=None)
    if history:
        table = Table("Evaluated", "Members", "Took", title="History (newest first)")
        for record in history:
            table.add_row(
                when(record.evaluated_at),
                _count(record.member_count),
                f"{record.duration_ms:,} ms",
            )
        print_table(table)


@segments_app.command("preview")
def preview(
    *,
    name: NameArgument,
    limit: Annotated[int, typer.Option("--limit", help="Members to show.")] = 100,
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            help="A column to show (repeatable); default: the"
            " columns the definition uses.",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the first members and the member count.

    Example: audiencesync segments preview "France VIP" --limit 10 --column email
    """
    from audiencesync.app.views.segments import PreviewView

    with _service(home, as_user) as service:
        result = service.preview(name, limit=limit, columns=column)
    if as_json:
        echo_json(PreviewView.of(result).as_json())
        return
    _print_preview(result)


@segments_app.command("evaluate")
def evaluate(
    *,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Segments to count (default: all).", show_default=False),
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Count the members of segments now and record the counts in their history.

    A segment the engine cannot evaluate is reported (and recorded) and the
    others are still counted; the command then ends with an error (exit 2).

    Example: audiencesync segments evaluate "France VIP"
    """
    from audiencesync.app.views import as_json as views_json
    from audiencesync.app.views.segments import EvaluatedView

    counts: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    with _service(home, as_user) as service:
        chosen = names or [info.name for info in service.list_all()]
        for name in chosen:
            try:
                counts[name] = service.count(name)
            except EvaluationError as exc:
                counts[name], errors[name] = None, str(exc)
    if as_json:
        echo_json(
            views_json(
                [
                    EvaluatedView(
                        name=name, member_count=members, error=errors.get(name)
                    )
                    for name, members in counts.items()
                ]
            )
        )
    else:
        for segment, members in counts.items():
            shown = errors.get(segment) or members_text(members)
            typer.echo(f"{plain(segment)}: {shown}")
    if errors:
        failed = ", ".join(repr(name) for name in errors)
        msg = (
            f"{len(errors)} of {len(counts)} segments could not be evaluated"
            f" ({failed}); fix their conditions with `audiencesync segments edit`."
        )
        raise EvaluationError(msg)


@segments_app.command("delete")
def delete(
    *,
    name: NameArgument,
    home: HomeOption = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a segment and its count history.

    Example: audiencesync segments delete "France VIP"
    """
    from audiencesync.app.views.segments import DeletedView

    with _service(home, as_user) as service:
        info = service.get(name)
        service.delete(info.name)
    if as_json:
        echo_json(DeletedView(name=info.name).as_json())
        return
    typer.echo(f"Deleted segment {info.name!r}.")


# --- helpers ------------------------------------------------------------------


def _definition(
    where: str | None, rules: Path | None, *, required: bool
) -> Definition | None:
    from audiencesync.segments.rules import parse_rules_text, parse_where

    if where is not None and rules is not None:
        msg = "Give either --where or --rules, not both."
        raise ConfigError(msg)
    if where is not None:
        return parse_where(where)
    if rules is not None:
        return parse_rules_text(_read_rules(rules))
    if required:
        msg = (
            'A segment needs a definition: --where "SQL condition" or --rules'
            " FILE.json (see docs/segments.md)."
        )
        raise ConfigError(msg)
    return None


def _read_rules(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = (
            f"Could not read the rules file {path}: {exc.__class__.__name__}."
            " Check the path and that the file is UTF-8 text."
        )
        raise RuleError(msg) from exc


def _print_info(info: SegmentInfo, *, as_json: bool, verb: str | None) -> None:
    from audiencesync.app.views.segments import SegmentView

    if as_json:
        echo_json(SegmentView.of(info).as_json())
        return
    console = Console(highlight=False)
    if verb:
        console.print(
            f"{verb} segment [bold]{cell(info.name)}[/]:"
            f" {members_text(info.member_count)}."
        )
        return
    console.print(f"[bold]{cell(info.name)}[/]")
    if info.description:
        console.print(cell(info.description))
    console.print(f"Definition: {cell(info.summary)}")
    console.print(
        f"Members: {_count(info.member_count)} (evaluated {when(info.evaluated_at)})"
    )


def _print_preview(result: Preview) -> None:
    console = Console(highlight=False)
    members = result.members
    table = Table(*members.column_names)
    for row in members.to_pylist():
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)
    console.print(f"{members.num_rows:,} of {result.member_count:,} members shown.")


def _count(members: int | None) -> str:
    return "—" if members is None else f"{members:,}"
