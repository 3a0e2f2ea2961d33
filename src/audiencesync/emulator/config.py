"""The emulator's settings and records: frozen value objects, validated on creation.

:class:`EmulatorConfig` holds every knob (projects, keys, rate limits, faults,
state file); :class:`ScriptedFault` is a one-off answer a test asks for; and
:class:`RequestRecord` is what the emulator remembers about each request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

from audiencesync.core.window import RateLimit
from audiencesync.emulator.endpoints import BY_NAME
from audiencesync.errors import ConfigError

DEFAULT_API_KEY = "audiencesync-emulator-dev-key-01"
"""The fixed 32-character server-side key of the default project (development only)."""

REGIONS = ("us", "eu")
BULK_BODY_LIMIT = 4 * 1024 * 1024


class ProjectType(StrEnum):
    """How an Iterable project identifies its users."""

    EMAIL = "email"
    USER_ID = "userId"
    HYBRID = "hybrid"


class KeyType(StrEnum):
    """What an API key may call."""

    SERVER_SIDE = "server-side"
    READ_ONLY = "read-only"
    CLIENT_SIDE = "client-side"


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    """One emulated Iterable project."""

    project_id: int = 1
    project_type: ProjectType = ProjectType.EMAIL
    region: str = "us"


@dataclass(frozen=True, slots=True)
class ApiKeySpec:
    """One API key and the project it belongs to."""

    key: str
    project_id: int = 1
    key_type: KeyType = KeyType.SERVER_SIDE


@dataclass(frozen=True, slots=True)
class ScriptedFault:
    """An answer given instead of the real one (see ``Emulator.script``).

    ``body``: a mapping (sent as JSON), a str (plain text), bytes (as is), or None
    for the emulator's usual body for ``status``. ``drop``: apply the request for
    real, then drop the connection mid-response (``status`` is then ignored).
    ``delay``: seconds waited through the clock before answering.
    """

    status: int = 429
    body: Mapping[str, object] | str | bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What the emulator saw and answered for one request."""

    method: str
    endpoint: str
    status: int
    items: int
    project_id: int | None


RateLimitBody = Literal["json", "text"]
RetryAfter = Literal["none", "seconds", "date"]


def _default_projects() -> tuple[ProjectSpec, ...]:
    return (ProjectSpec(),)


def _default_keys() -> tuple[ApiKeySpec, ...]:
    return (ApiKeySpec(DEFAULT_API_KEY),)


def _default_body_limits() -> Mapping[str, int]:
    return {"users/bulkUpdate": BULK_BODY_LIMIT}


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Every setting of the emulator; see docs/emulator.md for each one."""

    projects: tuple[ProjectSpec, ...] = field(default_factory=_default_projects)
    keys: tuple[ApiKeySpec, ...] = field(default_factory=_default_keys)
    rate_limits_enabled: bool = True
    rates: Mapping[str, RateLimit] = field(default_factory=dict)
    rate_limit_body: RateLimitBody = "json"
    retry_after: RetryAfter = "none"
    fault_rate: float = 0.0
    drop_rate: float = 0.0
    latency: float = 0.0
    new_list_invalid_seconds: float = 0.0
    seed: int = 0
    max_body_bytes: Mapping[str, int] = field(default_factory=_default_body_limits)
    state_file: Path | None = None
    request_log_limit: int = 100_000

    def __post_init__(self) -> None:
        _check_projects(self.projects)
        _check_keys(self.keys, {p.project_id for p in self.projects})
        _check_names("rates", self.rates)
        _check_names("max_body_bytes", self.max_body_bytes)
        _check_choice("rate_limit_body", self.rate_limit_body, ("json", "text"))
        _check_choice("retry_after", self.retry_after, ("none", "seconds", "date"))
        for name in ("fault_rate", "drop_rate"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                msg = f"{name} must be between 0 and 1, got {share}; use e.g. 0.05"
                raise ConfigError(msg)
        for name in ("latency", "new_list_invalid_seconds"):
            if getattr(self, name) < 0:
                msg = f"{name} must be zero or more seconds, got {getattr(self, name)}"
                raise ConfigError(msg)


def _check_projects(projects: tuple[ProjectSpec, ...]) -> None:
    if not projects:
        msg = "the emulator needs at least one project"
        raise ConfigError(msg)
    ids = [p.project_id for p in projects]
    if len(set(ids)) != len(ids):
        msg = f"project ids must be unique, got {ids}"
        raise ConfigError(msg)
    for project in projects:
        _check_choice("region", project.region, REGIONS)
        if project.region == "eu" and project.project_type is ProjectType.EMAIL:
            msg = (
                f"project {project.project_id}: email-based projects do not exist in"
                " the EU data center; use project type userId or hybrid, or region us"
            )
            raise ConfigError(msg)


def _check_keys(keys: tuple[ApiKeySpec, ...], project_ids: set[int]) -> None:
    seen: set[str] = set()
    for spec in keys:
        suffix = spec.key[-4:]
        if not spec.key or spec.key in seen:
            msg = f"API key ...{suffix} is empty or given twice; give each key once"
            raise ConfigError(msg)
        if spec.project_id not in project_ids:
            msg = f"API key ...{suffix} names unknown project {spec.project_id}"
            raise ConfigError(msg)
        seen.add(spec.key)


def _check_names(setting: str, table: Mapping[str, object]) -> None:
    for name in table:
        if name not in BY_NAME:
            known = ", ".join(sorted(BY_NAME))
            msg = f"{setting}: unknown endpoint name {name!r}; use one of: {known}"
            raise ConfigError(msg)


def _check_choice(setting: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        msg = f"{setting} must be one of {', '.join(choices)}; got {value!r}"
        raise ConfigError(msg)
