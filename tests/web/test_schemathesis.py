"""The API keeps its OpenAPI document's word, for any input (issue 12, acceptance 3).

schemathesis reads the API's OpenAPI document (what ``/api/v1/openapi.json``
serves) and sends every operation generated requests, valid and invalid, as an
administrator, to the app in this process. Each operation starts from a fresh
copy of one data folder holding one of each resource: profiles, segments, a
connection to the emulator, an export, a finished run, a schedule. Path
parameters are either generated or the name of a resource that exists, so the
routes answer from real data too, not only with 404. Every answer must be no
5xx, a documented status, the documented content type, and match its schema.

The generation is derandomised and bounded (``MAX_EXAMPLES`` per operation and
phase), so CI sends the same requests every time and stays within minutes; a
failure prints the Hypothesis blob and the request (as curl) that reproduce it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    unsupported_method,
)
from typer.testing import CliRunner

from audiencesync.app.context import AppContext
from audiencesync.auth.directory import resolve_actor
from audiencesync.cli import app as cli
from audiencesync.emulator import ApiKeySpec, Emulator, EmulatorConfig, serve_in_thread
from audiencesync.settings import Settings, load_settings
from audiencesync.web.app import create_app, openapi_document
from audiencesync.web.errors import allowed_methods
from tests.canary import CANARY_API_KEY
from tests.web.conftest import Api

pytestmark = [pytest.mark.slow, pytest.mark.socket]
"""About 3.5 minutes of CPU for the whole API (57 operations): CI runs it, as
``-m slow``; the emulator (for the seeded connection and run) has a port."""

MAX_EXAMPLES = 30
"""Generated requests per operation and phase: bounded so CI stays in minutes."""

SEED = 12
"""Fixed, so CI sends the same requests every time."""

KEY_VARIABLE = "CONFORM_ITERABLE_KEY"

EXISTING: dict[str, tuple[str | int, ...]] = {
    "name": ("FR", "Shared", "Weekly", "viewer"),
    "table": ("profiles", "tickets"),
    "run_id": (1,),
    "label": ("conform",),
}
"""Path parameter values that name something the seeded data folder holds.

Of the users only the viewer: a generated PATCH or DELETE must not take away
the administrator whose token every request carries.
"""

AS_ADMIN = "Bearer <the administrator's token>"
"""The Authorization header schemathesis puts on every case that should carry a
valid token (not on the cases it generates without one, or with a wrong one).
Some cases are built at collection, before the data folder and its token exist:
the test swaps in the real token before it sends a case."""


@dataclass(frozen=True)
class Template:
    """The seeded data folder every operation copies, and its users' tokens."""

    home: Path
    tokens: dict[str, str]


def _cli(home: Path, *args: str) -> None:
    env = {"AUDIENCESYNC_HOME": str(home), KEY_VARIABLE: CANARY_API_KEY}
    result = CliRunner().invoke(cli, [*args, "--as", "admin"], env=env)
    assert result.exit_code == 0, (args, result.output)


@pytest.fixture(scope="module")
def template(
    _template_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Template]:
    """One of each resource, built once; the emulator serves the whole module."""
    folder = tmp_path_factory.mktemp("conform")
    home = folder / "home"
    shutil.copytree(_template_home, home)
    config = EmulatorConfig(
        keys=(ApiKeySpec(CANARY_API_KEY),), rate_limits_enabled=False
    )
    with (
        pytest.MonkeyPatch.context() as patch,  # starts before the clean env does
        serve_in_thread(Emulator(config)) as emulator_url,
    ):
        for name in list(os.environ):
            if name.startswith("AUDIENCESYNC_"):
                patch.delenv(name)
        _seed(home, folder, emulator_url)
        yield Template(home, _tokens(load_settings(home=home)))


def _tokens(settings: Settings) -> dict[str, str]:
    """The administrator's token, and a viewer's token labelled "conform"."""
    with AppContext.open(settings) as context:
        admin = resolve_actor(context.database, "admin")
        with context.workspace(admin) as workspace:
            token, _ = workspace.users.create_token("admin")
            workspace.users.create_token("viewer", label="conform")
    return {"admin": token}


def _seed(home: Path, folder: Path, emulator_url: str) -> None:
    tickets = folder / "tickets.csv"
    tickets.write_text("customer_id,topic\nC00000001,billing\n", encoding="utf-8")
    _cli(home, "profiles", "generate", "--count", "50", "--seed", "1")
    _cli(home, "profiles", "import", str(tickets), "--table", "tickets",
         "--key", "customer_id")  # fmt: skip
    for name, where in [("FR", "country = 'FR'"), ("DE", "country = 'DE'")]:
        _cli(home, "segments", "create", name, "--where", where)
    _cli(home, "connections", "add", "--name", "Shared", "--api-key-env",
         KEY_VARIABLE, "--base-url", emulator_url, "--i-agree",
         "--allow-contributors")  # fmt: skip
    _cli(home, "exports", "add", "--name", "Weekly", "--connection", "Shared",
         "--email-field", "email", "--segment", "FR")  # fmt: skip
    _cli(home, "exports", "run", "Weekly")  # run 1
    _cli(home, "schedule", "set", "0 6 * * *")


@pytest.fixture
def conform_api(template: Template, tmp_path: Path) -> Iterator[Api]:
    """The app over a fresh copy of the seeded data folder."""
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    with AppContext.open(load_settings(home=home)) as context:
        app = create_app(context)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Api(client, context, dict(template.tokens))


def _existing_or_generated(
    _: schemathesis.HookContext, case: Case[Any]
) -> st.SearchStrategy[Case[Any]]:
    """Valid path parameters: as generated, or a name the data folder holds.

    Negative ones stay as generated: they must be refused.
    """
    negative = case.meta is not None and case.meta.is_negative_at(
        ParameterLocation.PATH
    )
    if negative or not case.path_parameters:
        return st.just(case)
    choices = {
        name: st.sampled_from((value, *EXISTING.get(name, ())))
        for name, value in case.path_parameters.items()
    }
    return st.fixed_dictionaries(choices).map(lambda chosen: _with_path(case, chosen))


def _with_path(case: Case[Any], path_parameters: dict[str, Any]) -> Case[Any]:
    case.path_parameters = path_parameters
    return case


ACCEPTED = ["2xx", "401", "403", "404", "409", "412", "422"]
"""What a request valid by the document may answer (positive_data_acceptance).

Beyond schemathesis's default: 412 (a well-formed If-Match of another revision)
and 422 (the services' own checks, which no JSON schema says: a rule that does
not parse, a cron expression, a name already used in another case...).
"""

REFUSED = ["400", "401", "403", "404", "405", "409", "412", "415", "422", "428"]
"""What a request invalid by the document may answer (negative_data_rejection):
schemathesis's default and 412: an If-Match that names no revision (even an
empty one) is refused, also when the body is one pydantic reads leniently
(``0`` for ``false``) though the document says boolean."""

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ACCEPTED},
            "negative_data_rejection": {"expected-statuses": REFUSED},
        },
    }
)

DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
schema.hook("flatmap_case")(_existing_or_generated)


@schema.auth(refresh_interval=None)
class AdminToken:
    """The administrator's bearer token on every case that should carry one."""

    def get(self, _case: Case[Any], _context: schemathesis.AuthContext, /) -> str:
        """Where the test puts the real token."""
        return AS_ADMIN

    def set(
        self, case: Case[Any], data: str, _context: schemathesis.AuthContext, /
    ) -> None:
        """As the Authorization header."""
        case.headers["Authorization"] = data


def _excluded_checks(case: Case[Any], app: FastAPI) -> list[schemathesis.CheckFunction]:
    """Checks that would judge a path the router also reads as a name.

    A name may hold "/" (``/segments/{name:path}``), so ``PATCH
    /segments/a/counts`` edits the segment named "a/counts" (a 422 without a
    body) rather than being an undeclared method (405), and ``Allow`` there
    truthfully lists GET, PATCH and DELETE too. Both checks stay on for every
    path where the router answers exactly the methods the document lists.
    """
    concrete = re.sub(r"\{[^}]+\}", "x", case.operation.path)
    scope = {"type": "http", "path": concrete, "root_path": "", "headers": []}
    documented = {method.upper() for method in DOCUMENT["paths"][case.operation.path]}
    if set(allowed_methods(app, scope)) != documented:
        return [unsupported_method, allow_header_conformance]
    return []


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_api_keeps_its_openapi_document(case: Case[Any], conform_api: Api) -> None:
    """No 5xx, a documented status and content type, a body matching its schema."""
    app = conform_api.client.app  # over this operation's copy of the data folder
    assert isinstance(app, FastAPI)
    case.operation.app = case.operation.schema.app = app  # probes use it too
    if case.headers.get("Authorization") == AS_ADMIN:
        case.headers["Authorization"] = conform_api.auth("admin")["Authorization"]
    case.call_and_validate(excluded_checks=_excluded_checks(case, app))
