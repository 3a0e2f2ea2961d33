"""docs/api.md is true: its curl examples run against a real ``serve``.

Every ```sh block of the page runs, in order, in one bash (so ``$RUN`` and
``$ETAG`` carry over), with the real ``curl`` binary. A ``curl`` wrapper first on
PATH adds ``-w`` to note each answer's status on stderr; the statuses must be the
``# → NNN`` lines of the page, in order.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.canary import CANARY_API_KEY
from tests.web.served import cli_env, run_cli, serve_process

pytestmark = [
    pytest.mark.socket,
    pytest.mark.skipif(
        shutil.which("curl") is None or shutil.which("jq") is None,
        reason="the examples need curl and jq",
    ),
]

PAGE = Path(__file__).parents[2] / "docs" / "api.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
EXPECTED = re.compile(r"^# → (\d{3})$", re.MULTILINE)
STATUS = "HTTP-STATUS "
BASH = shutil.which("bash") or "/bin/bash"
CUSTOMERS = """\
email,first_name,lifetime_value
ana@example.com,Ana,1500
 Bob@Example.COM ,Bob,2500
carla@example,Carla,3000
dan@example.com,Dan,20
"""
"""Three big spenders, one of them with an address Iterable refuses."""


def examples() -> str:
    """The page's ``sh`` blocks, one script."""
    return "\n".join(BLOCK.findall(PAGE.read_text(encoding="utf-8")))


def curl_wrapper(folder: Path) -> Path:
    """A ``curl`` that runs the real one and notes the status on stderr."""
    real = shutil.which("curl")
    assert real is not None
    folder.mkdir()
    wrapper = folder / "curl"
    wrapper.write_text(
        f'#!/bin/sh\nexec {real} "$@" -w "%{{stderr}}{STATUS}%{{http_code}}\\n"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    return folder


def test_the_page_has_examples_for_the_main_flows() -> None:
    """Segments, connections, exports, a run, its events and its rejects CSV."""
    script = examples()
    for route in (
        "/api/v1/segments",
        "/api/v1/connections",
        "/api/v1/exports",
        "/api/v1/exports/Newsletter/runs",
        "/events",
        "/rejects.csv",
    ):
        assert route in script


def test_every_curl_example_answers_as_the_page_says(
    tmp_path: Path, emulator_url: str
) -> None:
    """Run the page's examples in order; each status is the one it documents."""
    home = tmp_path / "home"
    run_cli(home, "init")
    token = run_cli(home, "users", "token", "admin", "--label", "docs").strip()
    work = tmp_path / "work"
    work.mkdir()
    (work / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    script = examples()
    with serve_process(home, tmp_path / "serve.log") as base:
        env = cli_env(home) | {
            "PATH": f"{curl_wrapper(tmp_path / 'bin')}:{cli_env(home)['PATH']}",
            "BASE": base,
            "TOKEN": token,
            "ITERABLE_URL": emulator_url,
            "ITERABLE_API_KEY": CANARY_API_KEY,
        }
        done = subprocess.run(  # noqa: S603 - the page's own examples
            [BASH, "-eu", "-o", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    statuses = [
        line.removeprefix(STATUS)
        for line in done.stderr.splitlines()
        if line.startswith(STATUS)
    ]
    assert done.returncode == 0, done.stderr
    assert statuses == EXPECTED.findall(script), done.stdout
    assert "event: end" in done.stdout
    assert (work / "rejects.csv").read_text(encoding="utf-8").startswith("segment")
    assert CANARY_API_KEY not in done.stdout
