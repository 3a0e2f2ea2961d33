"""An export's five segments, fresh, as a child process: sent together against in turn.

One invocation, one machine, the emulator's rate limits off:

1. Set-up (not timed): ``--profiles`` messy profiles (1,000,000 by default) in a
   data folder with the five segments of :func:`benchmarks.large_export.five_segments`
   in one export, kept as a pristine copy.
2. For each try and each way, a fresh copy of that folder and a fresh emulator
   (``--latency`` added to every answer), then ``audiencesync exports run "Many
   segments" --json`` as a child process, wall time and peak RSS:
   ``AUDIENCESYNC_SEGMENTS_AT_ONCE=1`` (in turn, as earlier versions sent them)
   and the default (together). Both ways must fill every list with the same
   members, read back from the emulator. The fastest try of each counts.

Prints the figures, then one JSON line. No email and no key is ever printed.

    .venv/bin/python -m benchmarks.segments_together [--latency 0.1]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from audiencesync.settings import DEFAULT_SEGMENTS_AT_ONCE, load_settings
from benchmarks.export_harness import (
    MANY_EXPORT,
    CommandFigures,
    check,
    emulator,
    free_port,
    list_members,
    run_command,
    set_up,
    write_messy_profiles,
)
from benchmarks.large_export import five_segments

WAYS = {"in turn": "1", "together": str(DEFAULT_SEGMENTS_AT_ONCE)}


def _once(
    pristine: Path, folder: Path, *, key: str, port: int, latency: float, at_once: str
) -> tuple[CommandFigures, dict[str, frozenset[str]]]:
    """One fresh run of the export; its figures and each segment's list."""
    home = folder / "home"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(pristine, home)
    with emulator(key, latency=latency, port=port) as emulated:
        run = run_command(
            ["exports", "run", MANY_EXPORT, "--json"],
            home=home,
            settings={"AUDIENCESYNC_SEGMENTS_AT_ONCE": at_once},
        )
        view = run.as_json()
        check(view["status"].startswith("Succeeded"), "the run succeeded")
        lists = {
            part["segment"]: frozenset(
                list_members(emulated.base_url, key, int(part["list_id"]))
            )
            for part in view["segments"]
        }
    return run, lists


def main() -> None:
    """Parse the options, time both ways, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--tries", type=int, default=2)
    options = parser.parse_args()
    key, port = secrets.token_hex(16), free_port()
    with tempfile.TemporaryDirectory(prefix="audiencesync-together-") as tmp:
        folder = Path(tmp)
        source = folder / "profiles.parquet"
        write_messy_profiles(source, count=options.profiles)
        pristine = folder / "pristine"
        with emulator(key, port=port) as emulated:
            set_up(load_settings(home=pristine), source, base_url=emulated.base_url,
                   key=key, segments=five_segments())  # fmt: skip
        best: dict[str, CommandFigures] = {}
        lists: dict[str, dict[str, frozenset[str]]] = {}
        for _ in range(options.tries):
            for way, at_once in WAYS.items():
                run, lists[way] = _once(
                    pristine, folder, key=key, port=port,
                    latency=options.latency, at_once=at_once,
                )  # fmt: skip
                if way not in best or run.wall_s < best[way].wall_s:
                    best[way] = run
        check(lists["in turn"] == lists["together"], "both ways fill the same lists")
    _report(options, best, lists["together"])


def _report(
    options: argparse.Namespace,
    best: dict[str, CommandFigures],
    lists: dict[str, frozenset[str]],
) -> None:
    sizes = ", ".join(f"{len(members):,}" for members in lists.values())
    print(
        f"{options.profiles:,} messy profiles, five segments ({sizes} members),"
        f" latency {options.latency * 1000:.0f} ms, fastest of {options.tries}"
    )
    for way, run in best.items():
        print(f"{way:>9}: {run.wall_s:.2f} s wall, peak RSS {run.peak_rss_mb:,.0f} MB")
    ratio = best["together"].wall_s / best["in turn"].wall_s
    print(f"together / in turn: {ratio:.2f}x; both ways filled the same lists")
    figures: dict[str, Any] = {
        "profiles": options.profiles,
        "latency_s": options.latency,
        "in_turn_s": round(best["in turn"].wall_s, 3),
        "together_s": round(best["together"].wall_s, 3),
        "ratio": round(ratio, 3),
        "in_turn_rss_mb": round(best["in turn"].peak_rss_mb),
        "together_rss_mb": round(best["together"].peak_rss_mb),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
