"""Secrets (passwords, API keys) come from standard input, never from arguments.

An argument would land in the shell history and in every process listing. Piped
input is read up to the first line end; on a terminal the secret is asked for
twice, without echo.
"""

from __future__ import annotations

import sys

import typer

from audiencesync.errors import ConfigError


def read_secret(what: str, *, flag: str) -> str:
    """The first line of stdin (without its line end), or a prompt on a terminal."""
    if sys.stdin.isatty():  # pragma: no cover - needs a real terminal
        value: str = typer.prompt(
            what.capitalize(), hide_input=True, confirmation_prompt=True, err=True
        )
        return value
    try:
        value = sys.stdin.readline().rstrip("\r\n")
    except UnicodeDecodeError:
        raise _not_text(what, flag) from None
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise _not_text(what, flag)  # undecodable bytes, kept as surrogates
    if not value:
        msg = (
            f"{flag} was given but standard input holds no {what}; pipe it in,"
            f" e.g. `printf '%s\\n' \"$SECRET\" | audiencesync ... {flag}`."
        )
        raise ConfigError(msg)
    return value


def _not_text(what: str, flag: str) -> ConfigError:
    msg = (
        f"The {what} given to {flag} is not valid UTF-8 text; pipe in the {what}"
        " exactly as it was copied, e.g. `printf"
        f" '%s\\n' \"$SECRET\" | audiencesync ... {flag}`."
    )
    return ConfigError(msg)
