"""Time the Data > Segments page with many segments and long counts histories.

Makes a data folder with ``--segments`` segments (500 by default), each with
``--evaluations`` recorded counts (30), then renders every page of the list in
this process (the ASGI app, no network), signed in as the administrator, and
prints each page's server time and the verdict against the budget (every page
under 150 ms, issue 13).

    .venv/bin/python -m benchmarks.segments_page [--segments 500] [--evaluations 30]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from audiencesync.app.context import AppContext
from audiencesync.app.home import initialize
from audiencesync.auth.directory import resolve_actor
from audiencesync.settings import load_settings
from audiencesync.store.models import Segment, SegmentEvaluation
from audiencesync.web.app import build_app
from audiencesync.web.pages.segments import PAGE

BUDGET_MS = 150.0
PASSWORD = "benchmark password 1"  # noqa: S105 - a throwaway data folder
START = datetime(2026, 1, 1, tzinfo=UTC)


def _seed(context: AppContext, segments: int, evaluations: int) -> None:
    with context.database.session() as session:
        for index in range(segments):
            name = f"Segment {index:04d}"
            segment = Segment(
                name=name,
                name_key=name.casefold(),
                kind="where",
                definition={"kind": "where", "where": "country = 'FR'"},
                created_at=START,
                updated_at=START,
            )
            session.add(segment)
            session.flush()
            session.add_all(
                SegmentEvaluation(
                    segment_id=segment.id,
                    evaluated_at=START + timedelta(hours=hour),
                    member_count=1000 + (hour * 37 + index) % 500,
                    duration_ms=5,
                    engine="duckdb",
                )
                for hour in range(evaluations)
            )


def _sign_in(client: TestClient) -> None:
    form = client.get("/sign-in").text
    found = re.search(r'name="csrf" value="([^"]+)"', form)
    assert found is not None
    client.post(
        "/sign-in",
        data={"name": "admin", "password": PASSWORD, "csrf": found.group(1)},
    )


def measure(segments: int, evaluations: int) -> list[float]:
    """The server time of each page of the list, in milliseconds."""
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(home=Path(folder) / "home")
        initialize(settings, admin="admin")
        with AppContext.open(settings) as context:
            admin = resolve_actor(context.database, "admin")
            with context.workspace(admin) as workspace:
                workspace.users.set_password("admin", PASSWORD)
            _seed(context, segments, evaluations)
            app = build_app()
            app.state.context = context
            with TestClient(app) as client:
                _sign_in(client)
                client.get("/segments")  # warm: templates, the catalog
                timings = []
                for offset in range(0, segments, PAGE):
                    started = time.perf_counter()
                    answer = client.get(f"/segments?offset={offset}")
                    timings.append((time.perf_counter() - started) * 1000)
                    answer.raise_for_status()
    return timings


def main() -> None:
    """Seed, render every page, print the figures and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--evaluations", type=int, default=30)
    options = parser.parse_args()
    timings = measure(options.segments, options.evaluations)
    worst = max(timings)
    verdict = "PASS" if worst < BUDGET_MS else "FAIL"
    print(
        f"segments page, {options.segments} segments x {options.evaluations} counts,"
        f" {len(timings)} pages: worst {worst:.1f} ms, median"
        f" {sorted(timings)[len(timings) // 2]:.1f} ms (budget {BUDGET_MS:.0f} ms)"
        f" {verdict}"
    )
    print(json.dumps({"pages": len(timings), "worst_ms": round(worst, 1)}))


if __name__ == "__main__":
    main()
