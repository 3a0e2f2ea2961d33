"""``/api/v1/runs`` and ``POST /exports/{name}/runs``: every route and role.

Runs really send to an emulator on a loopback port. Each case stages what its
route acts on (a finished run, a queued one, a held one, an interrupted one),
calls the route as each role (and with no token), and checks the status and,
for allowed changes, the audit event the service wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from audiencesync.app.worker import RunWorker
from audiencesync.auth.roles import Role
from audiencesync.emulator import serve_in_thread
from tests.app.stage import (
    EXPORT,
    FRANCE,
    Stage,
    interrupted_run,
    make_emulator,
    stage,
)
from tests.web.conftest import Api

pytestmark = pytest.mark.socket

ALL = ("admin", "contributor", "viewer", None)


@pytest.fixture
def staged(api: Api, tmp_path: Path) -> Iterator[Stage]:
    """The API's data folder staged for runs against an emulator."""
    emulator = make_emulator()
    with serve_in_thread(emulator) as url:
        yield stage(api.context, tmp_path, url, emulator)


def _done(staged: Stage) -> int:
    with staged.workspace() as workspace:
        return workspace.runs.run(EXPORT).id


def _queued(staged: Stage) -> int:
    with staged.workspace() as workspace:
        return workspace.runs.request(EXPORT).id


def _held(staged: Stage) -> int:
    return staged.held_run().id


def _interrupted(staged: Stage) -> int:
    return interrupted_run(staged).id


Setup = Callable[[Stage], int]
READS: list[tuple[str, Setup, tuple[int, int, int, int]]] = [
    ("/runs", _done, (200, 200, 200, 401)),
    ("/runs/{id}", _done, (200, 200, 200, 401)),
    ("/runs/{id}/rejects", _done, (200, 200, 403, 401)),
    ("/runs/{id}/rejects.csv", _done, (200, 200, 403, 401)),
]
ACTIONS: list[tuple[str, Setup, tuple[int, int, int, int], str | None]] = [
    ("cancel", _queued, (200, 200, 403, 401), "run.cancel"),
    ("approve", _held, (202, 403, 403, 401), "run.approve"),  # queued
    ("discard", _held, (200, 403, 403, 401), "run.discard"),
    ("resume", _interrupted, (202, 202, 403, 401), "run.resume"),  # queued
]


def _cases(
    table: list[tuple[str, Setup, tuple[int, int, int, int]]],
) -> list[pytest.ParameterSet]:
    return [
        pytest.param(path, setup, role, expected[ALL.index(role)], id=f"{path}-{role}")
        for path, setup, expected in table
        for role in ALL
    ]


@pytest.mark.parametrize(("path", "setup", "role", "expected"), _cases(READS))
def test_reading_runs(  # noqa: PLR0917 - pytest passes parameters by name
    api: Api, staged: Stage, path: str, setup: Setup, role: str | None, expected: int
) -> None:
    """Everyone reads runs; rejects (e-mails inside) not viewers; no token: 401."""
    run_id = setup(staged)

    answer = api.client.get(f"/api/v1{path.format(id=run_id)}", headers=api.auth(role))

    assert answer.status_code == expected, answer.text


@pytest.mark.parametrize(
    ("verb", "setup", "role", "expected", "action"),
    [
        pytest.param(
            verb, setup, role, expected[ALL.index(role)], action, id=f"{verb}-{role}"
        )
        for verb, setup, expected, action in ACTIONS
        for role in ALL
    ],
)
def test_acting_on_a_run(  # noqa: PLR0917 - pytest passes parameters by name
    api: Api,
    staged: Stage,
    verb: str,
    setup: Setup,
    role: str | None,
    expected: int,
    action: str | None,
) -> None:
    """Cancel, approve, discard, resume: the status and the audit event per role."""
    run_id = setup(staged)
    before = api.audit_actions()

    answer = api.client.post(f"/api/v1/runs/{run_id}/{verb}", headers=api.auth(role))

    assert answer.status_code == expected, answer.text
    written = api.audit_actions()[len(before) :]
    if expected in {200, 202} and action is not None:
        assert (role, action, str(run_id)) in written
    if expected not in {200, 202}:
        assert all(event[1].startswith("run.notify") for event in written)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("admin", 202), ("contributor", 202), ("viewer", 403), (None, 401)],
)
def test_requesting_a_run(
    api: Api, staged: Stage, role: str | None, expected: int
) -> None:
    """POST /exports/{name}/runs: 202, the Queued run and its Location; audited."""
    answer = api.client.post(
        f"/api/v1/exports/{EXPORT}/runs",
        json={"dry_run": False},
        headers=api.auth(role),
    )

    assert answer.status_code == expected, answer.text
    if expected == 202:
        body = answer.json()
        assert body["status"] == "Queued"
        assert answer.headers["Location"] == f"/api/v1/runs/{body['id']}"
        assert (role, "run.request", str(body["id"])) in api.audit_actions()
    assert staged.emulator.requests == []


def test_a_requested_run_is_followed_to_the_list(api: Api, staged: Stage) -> None:
    """The Location shows the run; once the worker ran it, the list is the segment."""

    answer = api.client.post(
        f"/api/v1/exports/{EXPORT}/runs", headers=api.auth("admin")
    )
    RunWorker(api.context).poll_once()

    shown = api.client.get(answer.headers["Location"], headers=api.auth("viewer"))
    assert shown.json()["status"] == "Succeeded with rejects"
    assert (
        frozenset(staged.emulator.list_members(shown.json()["segments"][0]["list_id"]))
        == FRANCE
    )


def test_the_rejects_csv_is_csv(api: Api, staged: Stage) -> None:
    """The CSV has the header and the reject; its formula cell is defused."""
    run_id = _done(staged)

    answer = api.client.get(
        f"/api/v1/runs/{run_id}/rejects.csv", headers=api.auth("contributor")
    )

    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.text.splitlines()
    assert lines[0] == "segment,batch,profile_key,identifier,bucket,reason,retryable"
    assert any("'=1+1" in line for line in lines[1:])


def test_rejects_are_a_page(api: Api, staged: Stage) -> None:
    """GET /runs/{id}/rejects is a Page of rejects."""
    run_id = _done(staged)

    body = api.client.get(
        f"/api/v1/runs/{run_id}/rejects", headers=api.auth("admin")
    ).json()

    assert body["total"] == len(body["items"]) == 1
    assert body["items"][0]["identifier"] == "=1+1"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/runs/999", 404),
        ("/runs/0", 422),
        ("/runs/99999999999999999999999", 422),
        ("/runs/abc", 422),
        ("/runs?status=Nope", 422),
        ("/runs?limit=0", 422),
        ("/runs?offset=-1", 422),
        ("/runs?export=Nothing", 404),
        ("/runs?status=held", 200),
        ("/runs?export=%00", 422),
    ],
)
def test_odd_input_is_refused_cleanly(
    api: Api, staged: Stage, path: str, expected: int
) -> None:
    """Unknown runs 404; out-of-range or odd input 422; never a 500."""
    del staged
    answer = api.client.get(f"/api/v1{path}", headers=api.auth("admin"))

    assert answer.status_code == expected, answer.text
    if expected >= 400:
        assert set(answer.json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("Nothing", {}, 404),
        (EXPORT, {"dry_run": "maybe"}, 422),
        (EXPORT, {"other": True}, 422),
        ("x" * 300, {}, 422),
    ],
)
def test_odd_run_requests_are_refused(
    api: Api, staged: Stage, name: str, body: dict[str, object], expected: int
) -> None:
    """An unknown export 404; a bad body or name 422; nothing queued."""
    answer = api.client.post(
        f"/api/v1/exports/{name}/runs", json=body, headers=api.auth("admin")
    )

    assert answer.status_code == expected, answer.text
    with staged.workspace() as workspace:
        assert workspace.runs.waiting() == []


@pytest.mark.parametrize(
    ("verb", "setup"), [("approve", _held), ("resume", _interrupted)]
)
def test_an_approval_or_resume_is_queued_then_run_by_the_worker(
    api: Api, staged: Stage, verb: str, setup: Setup
) -> None:
    """202 at once with the pass queued; nothing is sent until the worker runs it."""
    run_id = setup(staged)
    sent_before = len(staged.emulator.requests)

    answer = api.client.post(f"/api/v1/runs/{run_id}/{verb}", headers=api.auth("admin"))

    assert answer.status_code == 202, answer.text
    assert answer.json()["queued_action"] == verb
    assert answer.json()["queued_by"] == "admin"
    assert answer.headers["Location"] == f"/api/v1/runs/{run_id}"
    assert len(staged.emulator.requests) == sent_before
    RunWorker(api.context).poll_once()
    shown = api.client.get(answer.headers["Location"], headers=api.auth("viewer"))
    assert shown.json()["queued_action"] is None
    assert shown.json()["status"] in {"Succeeded", "Succeeded with rejects"}


def test_a_second_approval_of_a_queued_one_is_a_conflict(
    api: Api, staged: Stage
) -> None:
    """One waiting pass per run: asking again answers 409, naming who asked first."""
    run_id = _held(staged)
    api.client.post(f"/api/v1/runs/{run_id}/approve", headers=api.auth("admin"))

    again = api.client.post(f"/api/v1/runs/{run_id}/approve", headers=api.auth("admin"))

    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "run_action_queued"
    assert "admin asked for" in again.json()["error"]["message"]


def test_canceling_a_queued_resume_drops_it(api: Api, staged: Stage) -> None:
    """A cancel ends the stopped run; the worker then has nothing to resume."""
    run_id = _interrupted(staged)
    api.client.post(f"/api/v1/runs/{run_id}/resume", headers=api.auth("contributor"))

    api.client.post(f"/api/v1/runs/{run_id}/cancel", headers=api.auth("contributor"))
    RunWorker(api.context).poll_once()

    shown = api.client.get(f"/api/v1/runs/{run_id}", headers=api.auth("viewer")).json()
    assert (shown["status"], shown["queued_action"]) == ("Canceled", None)


def test_a_queued_approval_whose_admin_was_demoted_is_not_carried_out(
    api: Api, staged: Stage
) -> None:
    """The worker acts as who asked: demoted since, the run stays Held and says why."""
    run_id = _held(staged)
    with api.workspace() as workspace:
        workspace.users.add("second", role=Role.ADMIN, password="correct horse 2")
        token, _ = workspace.users.create_token("second")
    asked = api.client.post(
        f"/api/v1/runs/{run_id}/approve", headers={"Authorization": f"Bearer {token}"}
    )
    assert asked.status_code == 202, asked.text
    with api.workspace() as workspace:
        workspace.users.set_role("second", Role.CONTRIBUTOR)

    RunWorker(api.context).poll_once()

    shown = api.client.get(f"/api/v1/runs/{run_id}", headers=api.auth("viewer")).json()
    assert (shown["status"], shown["queued_action"]) == ("Held", None)
    assert "The approve that second asked for was not carried out" in shown["error"]
