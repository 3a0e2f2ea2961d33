"""The ``audiencesync`` command line: thin Typer commands over the services.

Each command group lives in its own module, imported only when that command
runs (:mod:`audiencesync.cli.registry`), so ``--help`` and ``--version`` start
fast.

Errors from the service layer become one clear line on stderr and a non-zero
exit code here, and nowhere else; a traceback never reaches the user: any other
error prints one line and its details go to the data folder's log
(:mod:`audiencesync.cli.crashes`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from audiencesync import __version__
from audiencesync.cli.crashes import (
    NOT_UTF8,
    is_undecodable_text,
    leave_quietly,
    report_unexpected,
)
from audiencesync.cli.exiting import leave
from audiencesync.cli.hints import error_line
from audiencesync.cli.registry import LazyCommands
from audiencesync.core.private import restrict_new_files
from audiencesync.errors import AccessDeniedError, AudiencesyncError, ConfigError

# ``import httpx`` also imports httpx's own command line (click, pygments: about
# 50 ms of every command that calls Iterable) wherever click is installed, and
# uvicorn installs it. audiencesync never runs that command line; marking its
# module absent makes httpx fall back to its stub ``httpx.main``. (httpx2, the
# successor, imports it lazily.)
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def exit_code_for(error: AudiencesyncError) -> int:
    """2: fix the input or settings; 3: not allowed for this user; 1: the rest."""
    if isinstance(error, ConfigError):
        return EXIT_CONFIG
    if isinstance(error, AccessDeniedError):
        return EXIT_DENIED
    return EXIT_FAILURE


class AudiencesyncGroup(TyperGroup):
    """The root command group: service errors become one line and an exit code.

    Its commands are imported when asked for (:mod:`audiencesync.cli.registry`):
    listing them in help reads their summaries only.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands: LazyCommands = LazyCommands(loaded=self.commands)
        self._summaries_only = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # noqa: ARG002 - click's
        """The command ``cmd_name``, or its summary while help is listed."""
        if self._summaries_only:
            return self.commands.summary(cmd_name)
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:  # noqa: ARG002 - click's signature
        """The command names, in the registry's order, none imported."""
        return list(self.commands)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """Print the help, listing the commands without importing them."""
        with self._listing():
            super().format_help(ctx, formatter)

    @contextmanager
    def _listing(self) -> Iterator[None]:
        self._summaries_only = True
        try:
            yield
        finally:
            self._summaries_only = False

    def invoke(self, ctx: Any) -> Any:  # typer.Context's private click base
        """Run the chosen command; translate audiencesync errors once, here."""
        argv = list(ctx.args)  # the words after the command group's name
        try:
            return super().invoke(ctx)
        except AudiencesyncError as exc:
            typer.echo(error_line(exc), err=True)
            raise typer.Exit(exit_code_for(exc)) from exc
        except _CLICK_FLOW:
            raise
        except BrokenPipeError:  # the reader went away (``| head``): not a bug
            leave_quietly()
            raise typer.Exit(EXIT_FAILURE) from None
        except Exception as exc:  # a bug: one line here, the frames in the log
            if is_undecodable_text(exc):
                typer.echo(NOT_UTF8, err=True)
                raise typer.Exit(EXIT_CONFIG) from None
            typer.echo(report_unexpected(exc, argv), err=True)
            raise typer.Exit(EXIT_FAILURE) from None


_CLICK_FLOW = (typer.TyperException, typer.Exit, typer.Abort)  # usage errors, exits
EXIT_CONFIG = 2
EXIT_FAILURE = 1
EXIT_DENIED = 3

app = typer.Typer(
    name="audiencesync",
    cls=AudiencesyncGroup,
    help="Keep customer segments in sync with Iterable lists.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"audiencesync {__version__}")
        raise typer.Exit


@app.callback()
def root(
    version: bool = typer.Option(  # noqa: ARG001 - its eager callback acts
        False,
        "--version",
        help="Print the version and exit.",
        callback=_show_version,
        is_eager=True,
    ),
) -> None:
    """Keep customer segments in sync with Iterable lists."""
    restrict_new_files()  # whatever a command writes holds data: 0600 / 0700


def configure_logging() -> None:
    """Warnings and errors to stderr, one short line each."""
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def main() -> None:
    """Run the CLI and leave without the interpreter's teardown (cli.exiting)."""
    leave(run_command())


def run_command() -> int:
    """Run the command line in ``sys.argv``; its exit code.

    audiencesync errors become one line and an exit code; usage errors (bad
    flags) are Click's to report, in standalone mode. A launcher's worker
    (:mod:`audiencesync.launch.worker`) calls this too.
    """
    configure_logging()
    try:
        _run_app()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)  # as the interpreter prints it
        return EXIT_FAILURE
    return 0


def _run_app() -> None:
    try:
        app()
    except AudiencesyncError as exc:
        print(error_line(exc), file=sys.stderr)
        sys.exit(exit_code_for(exc))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        leave_quietly()
        sys.exit(EXIT_FAILURE)
    except Exception as exc:  # a bug outside a command: still no traceback
        print(report_unexpected(exc), file=sys.stderr)
        sys.exit(EXIT_FAILURE)
