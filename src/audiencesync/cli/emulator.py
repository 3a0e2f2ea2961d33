"""``audiencesync emulator``: serve the local Iterable emulator.

Flags are parsed into an :class:`~audiencesync.emulator.EmulatorConfig` by
:func:`build_config`; a bad value raises :class:`ConfigError` naming the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from audiencesync.core.window import RateLimit
from audiencesync.errors import ConfigError

if TYPE_CHECKING:
    from audiencesync.emulator import ApiKeySpec, EmulatorConfig
    from audiencesync.emulator.config import RateLimitBody, RetryAfter


def parse_key(option: str) -> ApiKeySpec:
    """``KEY`` or ``KEY:server-side|read-only|client-side``."""
    from audiencesync.emulator import ApiKeySpec, KeyType

    key, _, kind = option.partition(":")
    types = {t.value: t for t in KeyType}
    if not key or (kind and kind not in types):
        msg = (
            f"--api-key ...{key[-4:]}: expected KEY or KEY:TYPE with TYPE one of"
            f" {', '.join(types)}"
        )
        raise ConfigError(msg)
    return ApiKeySpec(key, 1, types[kind] if kind else KeyType.SERVER_SIDE)


def parse_rate(option: str) -> tuple[str, RateLimit]:
    """``ENDPOINT=N`` (N per second) or ``ENDPOINT=N/SECONDS``."""
    name, _, figure = option.partition("=")
    limit, _, period = figure.partition("/")
    try:
        return name, RateLimit(int(limit), float(period) if period else 1.0)
    except ValueError as exc:
        msg = (
            f"--rate {option!r}: expected ENDPOINT=N or ENDPOINT=N/SECONDS with"
            " N >= 1, e.g. lists/subscribe=30 or lists/getUsers=5/60"
        )
        raise ConfigError(msg) from exc


def _choice(flag: str, value: str, choices: list[str]) -> str:
    if value not in choices:
        msg = f"{flag} {value!r} is not valid; use one of {', '.join(choices)}"
        raise ConfigError(msg)
    return value


def build_config(
    *,
    api_keys: list[str],
    project_type: str,
    region: str,
    rates: list[str],
    rate_limits: bool,
    rate_limit_body: str,
    retry_after: str,
    fault_rate: float,
    drop_rate: float,
    latency: float,
    new_list_invalid_seconds: float,
    seed: int,
    state: Path | None,
) -> EmulatorConfig:
    """The emulator settings the flags describe."""
    from audiencesync.emulator import (
        DEFAULT_API_KEY,
        EmulatorConfig,
        ProjectSpec,
        ProjectType,
    )

    kind = ProjectType(
        _choice("--project-type", project_type, [t.value for t in ProjectType])
    )
    return EmulatorConfig(
        projects=(ProjectSpec(1, kind, region),),
        keys=tuple(parse_key(k) for k in api_keys or [DEFAULT_API_KEY]),
        rate_limits_enabled=rate_limits,
        rates=dict(parse_rate(r) for r in rates),
        rate_limit_body=_rate_limit_body(rate_limit_body),
        retry_after=_retry_after(retry_after),
        fault_rate=fault_rate,
        drop_rate=drop_rate,
        latency=latency,
        new_list_invalid_seconds=new_list_invalid_seconds,
        seed=seed,
        state_file=state,
    )


def _rate_limit_body(value: str) -> RateLimitBody:
    choice = _choice("--rate-limit-body", value, ["json", "text"])
    return "text" if choice == "text" else "json"


def _retry_after(value: str) -> RetryAfter:
    choice = _choice("--retry-after", value, ["none", "seconds", "date"])
    return "seconds" if choice == "seconds" else "date" if choice == "date" else "none"


def describe(config: EmulatorConfig, *, host: str, port: int) -> str:
    """The one start-up line (keys shown by their last 4 characters only)."""
    project = config.projects[0]
    keys = ", ".join(f"...{k.key[-4:]} ({k.key_type.value})" for k in config.keys)
    limits = "on" if config.rate_limits_enabled else "off"
    return (
        f"Iterable emulator on http://{host}:{port} ({project.region} region,"
        f" {project.project_type.value} project {project.project_id});"
        f" {len(config.keys)} key(s): {keys}; rate limits {limits}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``emulator`` command to ``app``."""

    @app.command("emulator")
    def emulator(
        *,
        host: Annotated[
            str, typer.Option(help="Interface to listen on.")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 9009,
        api_key: Annotated[
            list[str] | None,
            typer.Option(help="KEY[:server-side|read-only|client-side]; repeat."),
        ] = None,
        project_type: Annotated[
            str, typer.Option(help="email, userId or hybrid.")
        ] = "email",
        region: Annotated[str, typer.Option(help="us (/api) or eu (/eu/api).")] = "us",
        rate: Annotated[
            list[str] | None,
            typer.Option(help="ENDPOINT=N or ENDPOINT=N/SECONDS; repeat."),
        ] = None,
        no_rate_limits: Annotated[
            bool, typer.Option("--no-rate-limits", help="Turn every rate limit off.")
        ] = False,
        rate_limit_body: Annotated[
            str, typer.Option(help="429 body: json or text.")
        ] = "json",
        retry_after: Annotated[
            str, typer.Option(help="Retry-After on 429: none, seconds or date.")
        ] = "none",
        fault_rate: Annotated[
            float, typer.Option(help="Share of requests answered with a 5xx.")
        ] = 0.0,
        drop_rate: Annotated[
            float, typer.Option(help="Share of writes applied, then dropped.")
        ] = 0.0,
        latency: Annotated[
            float, typer.Option(help="Seconds added to every request.")
        ] = 0.0,
        new_list_invalid_seconds: Annotated[
            float, typer.Option(help="Seconds a new list refuses subscribes.")
        ] = 0.0,
        seed: Annotated[int, typer.Option(help="Seed of the fault randomness.")] = 0,
        state: Annotated[
            Path | None, typer.Option(help="Load and save the state in FILE.")
        ] = None,
    ) -> None:
        """Serve a local Iterable emulator.

        Example: audiencesync emulator --port 9009 --rate lists/subscribe=30
        """
        from audiencesync.emulator import Emulator
        from audiencesync.emulator.server import run

        config = build_config(
            api_keys=api_key or [],
            project_type=project_type,
            region=region,
            rates=rate or [],
            rate_limits=not no_rate_limits,
            rate_limit_body=rate_limit_body,
            retry_after=retry_after,
            fault_rate=fault_rate,
            drop_rate=drop_rate,
            latency=latency,
            new_list_invalid_seconds=new_list_invalid_seconds,
            seed=seed,
            state=state,
        )
        print(describe(config, host=host, port=port), flush=True)
        run(Emulator(config), host=host, port=port)
