"""An API over a fresh data folder, with one user (and token) of each role.

``api`` is a FastAPI TestClient over ``create_app`` in this process (no port);
``as_role(role)`` gives the Authorization header of that role's user. The
emulator fixture serves a real Iterable stand-in on a loopback port, for routes
that reach Iterable (connect checks, runs).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from audiencesync.app.context import AppContext
from audiencesync.app.home import initialize
from audiencesync.app.workspace import Workspace
from audiencesync.auth.directory import resolve_actor
from audiencesync.auth.roles import Role
from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig, serve_in_thread
from audiencesync.settings import Settings, load_settings
from audiencesync.store.accounts import AuditEvent
from audiencesync.web.app import build_app
from tests.canary import CANARY_API_KEY

ROLES = ("admin", "contributor", "viewer")
"""The user names: each is named after its role."""


@dataclass
class Api:
    """A test client over the app, the context under it, and each role's token."""

    client: TestClient
    context: AppContext
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str | None) -> dict[str, str]:
        """The Authorization header of ``role``'s user (no header for None)."""
        if role is None:
            return {}
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @contextmanager
    def workspace(self, role: str = "admin") -> Iterator[Workspace]:
        """A workspace as that role's user, for a ``with`` block."""
        actor = resolve_actor(self.context.database, role)
        with self.context.workspace(actor) as opened:
            yield opened

    def audit_actions(self) -> list[tuple[str, str, str]]:
        """Every audit event so far as (actor, action, target), oldest first."""
        with self.context.database.session() as session:
            rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
            return [(row.actor, row.action, row.target) for row in rows]


@pytest.fixture(scope="session")
def _template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised data folder with a user of each role, made once per session.

    Initialising (the migrations) and hashing two passwords take seconds; each
    test copies this folder instead.
    """
    home = tmp_path_factory.mktemp("template") / "home"
    made = load_settings(home=home)
    initialize(made, admin="admin")
    with AppContext.open(made) as context:
        admin = resolve_actor(context.database, "admin")
        with context.workspace(admin) as workspace:
            for role in ROLES[1:]:
                workspace.users.add(role, role=Role(role), password="correct horse 1")
    return home


@pytest.fixture
def settings(tmp_path: Path, _template_home: Path) -> Settings:
    """A data folder of its own: initialised, users admin, contributor and viewer."""
    home = tmp_path / "home"
    shutil.copytree(_template_home, home)
    return load_settings(home=home)


@pytest.fixture(scope="session")
def _app() -> FastAPI:
    """One app per test process, given each test's context (see build_app)."""
    return build_app()


@pytest.fixture
def api(settings: Settings, _app: FastAPI) -> Iterator[Api]:
    """The API over the data folder, with a token for each role's user."""
    _app.state.context = None
    _app.state.event_streams = None
    with AppContext.open(settings) as context:
        admin = resolve_actor(context.database, "admin")
        tokens: dict[str, str] = {}
        with context.workspace(admin) as workspace:
            for role in ROLES:
                tokens[role], _ = workspace.users.create_token(role)
        _app.state.context = context
        with TestClient(_app, raise_server_exceptions=False) as client:
            yield Api(client, context, tokens)


@pytest.fixture
def emulator_url() -> Iterator[str]:
    """A real emulator on a loopback port that knows the canary key."""
    served = Emulator(EmulatorConfig(keys=(ApiKeySpec(CANARY_API_KEY),)))
    with serve_in_thread(served) as address:
        yield address
