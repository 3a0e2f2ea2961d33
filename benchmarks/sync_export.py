"""Time ``audiencesync exports run`` as a user runs it, beside a raw pipe floor.

One invocation, one machine, the emulator's rate limits off (design section 8):

1. ``audiencesync emulator --no-rate-limits [--latency S]`` starts as its own
   process with a throwaway key. With a latency, 8 simultaneous calls are timed
   first: they take about one latency when the emulator sleeps without blocking.
2. Set-up (not timed as budgets): N generated profiles with messy emails (about
   3 % invalid, 1 % duplicates in another case or with whitespace, mixed case,
   0.5 % missing) imported into a fresh data folder, one segment of everyone,
   a connection to the emulator, an export.
3. Raw pipe floor: DuckDB query of the stored emails → orjson → httpx POST of
   1000 emails to ``/api/lists/subscribe`` on a fresh list, ``--in-flight`` (4)
   calls at a time, nothing else (no validation); three times, each into a
   fresh list, and the fastest is the floor (a shared 2-core machine varies).
   Its CPU time and the emulator's are printed beside it.
4. Fresh export: ``audiencesync exports run "Benchmark export" --json`` as a
   child process (the console script, data folder from ``AUDIENCESYNC_HOME``);
   wall time from spawn to exit, the child's peak RSS. The list must hold exactly
   the distinct valid emails (normalised as the product does, counted here
   independently) and the run must report every other row as a reject.
   Budget: at most 1.5x the pipe. Its CPU time and the emulator's are printed
   too, with the *CPU bound*: the seconds that CPU work needs at the least on
   this machine's cores, against the pipe's wall time. The emulator runs on the
   same cores, so a ratio the CPU bound already exceeds cannot be reached by
   overlapping work, only by doing less of it.
5. Unless ``--fresh-only``: 1 % churn (N/100 profiles leave, as many join), the
   profiles file re-imported, the same command again: only the changes sent, the
   list equal to the new segment, at most 1.5 s wall; three times, the profiles
   going back and forth between the two files, each run checked, the fastest
   counted. Then a run with nothing to send, three times: at most 1 s. Then
   ``audiencesync --version``, best of 5: at most 0.15 s.

With ``--warm``, ``audiencesync serve --port 0`` runs for the data folder from
the fresh export on (started after the pipe, not timed), so every ``exports
run`` goes through the launcher it keeps (fast start, ``audiencesync.launch``)
as it does for a user while ``serve`` runs; peak RSS is then the worker's.
``--version`` runs cold either way.

Prints the figures, then one JSON line with every figure and a pass/fail per
budget. No email and no key is ever printed.

    .venv/bin/python -m benchmarks.sync_export --profiles 1000000
    .venv/bin/python -m benchmarks.sync_export --profiles 1000000 --warm
    .venv/bin/python -m benchmarks.sync_export --profiles 200000 --latency 0.025 \
        --fresh-only
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from audiencesync.profiles.service import import_profiles
from audiencesync.profiles.tables import table_path
from audiencesync.settings import Settings, load_settings
from benchmarks.export_harness import (
    EXPORT,
    CommandFigures,
    Emulated,
    Expected,
    check,
    cli_command,
    concurrent_calls_seconds,
    emulator,
    expected_members,
    list_members,
    run_command,
    set_up,
    time_raw_pipe,
    verdict,
    write_sources,
)
from benchmarks.serving import serving

FRESH_RATIO_BUDGET = 1.5
DELTA_BUDGET_SECONDS = 1.5
NOOP_BUDGET_SECONDS = 1.0
VERSION_BUDGET_SECONDS = 0.15
VERSION_TRIES = 5
TRIES = 3  # the pipe, the churn run and the no-op run: the fastest counts
PIPE_IN_FLIGHT = 4
PROBE_CALLS = 8
_WARM = ", started warm (serve runs: its launcher runs each command)"


def _segment(run: CommandFigures) -> dict[str, Any]:
    view = run.as_json()
    check(view["status"].startswith("Succeeded"), "the run succeeded")
    [part] = view["segments"]
    return dict(part)


def _rejects(part: dict[str, Any]) -> int:
    return int(sum(part["rejected"].values())) + int(part["invalid_in_source"])


def _reasons(part: dict[str, Any]) -> str:
    refused = sum(part["rejected"].values())
    return (
        f"{part['invalid_in_source']:,} invalid in the source (empty, malformed or"
        f" duplicate), {refused:,} refused by Iterable"
    )


def _print_run(what: str, run: CommandFigures, part: dict[str, Any]) -> None:
    print(
        f"{what}: {run.wall_s:.2f} s wall; {part['added']:,} subscribed,"
        f" {part['removed']:,} unsubscribed, {part['updated']:,} updated,"
        f" {part['unchanged']:,} unchanged, {part['batches']:,} calls"
    )
    print(
        f"  peak RSS {run.peak_rss_mb:,.0f} MB (VmHWM of the child process;"
        f" ru_maxrss {run.ru_maxrss_mb:,.0f} MB, an upper bound)"
    )


def _timed_pipe(
    stored: Path, emulated: Emulated, *, key: str, in_flight: int
) -> tuple[float, float]:
    """The pipe's wall seconds, and the CPU seconds it and the emulator used."""
    cpu, emulator_cpu = time.process_time(), emulated.cpu_s()
    seconds, _ = time_raw_pipe(
        stored, base_url=emulated.base_url, key=key, in_flight=in_flight
    )
    used = time.process_time() - cpu + emulated.cpu_s() - emulator_cpu
    return seconds, used


def _cpu_line(what: str, own: float, emulator_cpu: float, wall: float) -> str:
    cores = os.cpu_count() or 1
    return (
        f"  CPU: {what} {own:.2f} s + emulator {emulator_cpu:.2f} s ="
        f" {own + emulator_cpu:.2f} s in {wall:.2f} s wall"
        f" ({(own + emulator_cpu) / (wall * cores):.0%} of {cores} cores)"
    )


def _fresh(
    home: Path, expected: Expected, *, emulated: Emulated, key: str,
    launcher: int | None,
) -> tuple[CommandFigures, dict[str, Any], float]:  # fmt: skip
    """The fresh export, checked; and the CPU seconds the emulator spent on it."""
    base_url, emulator_cpu = emulated.base_url, emulated.cpu_s()
    run = run_command(
        ["exports", "run", EXPORT, "--json"], home=home, launcher=launcher
    )
    emulator_cpu = emulated.cpu_s() - emulator_cpu
    part = _segment(run)
    members = list_members(base_url, key, int(part["list_id"]))
    check(members == expected.members, "the list holds exactly the valid emails")
    check(
        _rejects(part) == expected.rows - len(expected.members),
        "the run reported every row it did not send",
    )
    _print_run("fresh export", run, part)
    print(
        f"  list: {len(members):,} members = the distinct valid emails (checked"
        f" against the emulator); rejects reported: {_reasons(part)}"
        f" (counted here: {expected.invalid:,} invalid, {expected.missing:,}"
        f" missing, {expected.duplicates:,} duplicates)"
    )
    print(_cpu_line("command", run.cpu_s, emulator_cpu, run.wall_s))
    return run, part, emulator_cpu


def _delta(
    settings: Settings,
    after: Path,
    before_set: Expected,
    *,
    base_url: str,
    key: str,
    launcher: int | None,
) -> tuple[CommandFigures, dict[str, Any], Expected]:
    started = time.perf_counter()
    import_profiles(settings, after, replace=True)
    print(
        f"re-import with 1 % churn (not timed): {time.perf_counter() - started:.2f} s"
    )
    expected = expected_members(after)
    joins = len(expected.members - before_set.members)
    leaves = len(before_set.members - expected.members)
    run = run_command(
        ["exports", "run", EXPORT, "--json"], home=settings.home, launcher=launcher
    )
    part = _segment(run)
    check(
        (part["added"], part["removed"], part["updated"]) == (joins, leaves, 0),
        "the churn run sent only the changes",
    )
    members = list_members(base_url, key, int(part["list_id"]))
    check(members == expected.members, "the list equals the new segment")
    _print_run("churn run", run, part)
    print(
        f"  sent {joins + leaves:,} changes = the segment's {joins:,} joins and"
        f" {leaves:,} leaves (valid distinct emails); list equals the new segment"
    )
    return run, part, expected


def _churn_runs(
    settings: Settings,
    sources: tuple[Path, Path],
    first: Expected,
    *,
    base_url: str,
    key: str,
    launcher: int | None,
) -> tuple[CommandFigures, dict[str, Any]]:
    """The fastest of TRIES churn runs, the profiles going from one file to the other.

    Each run is a 1 % churn of the one before, checked the same way.
    """
    best: tuple[CommandFigures, dict[str, Any]] | None = None
    current = first
    for attempt in range(TRIES):
        source = sources[attempt % 2]
        run, part, current = _delta(
            settings, source, current, base_url=base_url, key=key, launcher=launcher
        )
        if best is None or run.wall_s < best[0].wall_s:
            best = (run, part)
    assert best is not None
    return best


def _noop(home: Path, *, launcher: int | None) -> CommandFigures:
    """The fastest of TRIES runs with nothing to send."""
    runs = []
    for _ in range(TRIES):
        run = run_command(
            ["exports", "run", EXPORT, "--json"], home=home, launcher=launcher
        )
        part = _segment(run)
        check(
            part["added"] + part["removed"] + part["updated"] == 0, "nothing was sent"
        )
        _print_run("no-op run", run, part)
        runs.append(run)
    return min(runs, key=lambda run: run.wall_s)


def _version(home: Path) -> float:
    tries = [run_command(["--version"], home=home).wall_s for _ in range(VERSION_TRIES)]
    return min(tries)


def _budget(name: str, figure: str, limit: str, *, passed: bool) -> None:
    print(f"budget {name}: {figure} (≤ {limit}) → {verdict(passed)}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every answer"
    )
    parser.add_argument("--in-flight", type=int, default=PIPE_IN_FLIGHT)
    parser.add_argument(
        "--fresh-only", action="store_true", help="skip churn, no-op and --version"
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="run the commands while `audiencesync serve` runs (fast start)",
    )
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {
        "profiles": args.profiles,
        "latency_s": args.latency,
        "pipe_in_flight": args.in_flight,
        "warm": args.warm,
    }
    passes: dict[str, bool] = {}
    key = secrets.token_hex(16)  # throwaway; never printed
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        f" before the run; command: {' '.join(Path(c).name for c in cli_command())}"
        + (
            ", started warm (serve runs: its launcher runs each command)"
            if args.warm
            else ", started cold"
        )
    )
    with (
        tempfile.TemporaryDirectory(prefix="as-bench-") as folder,
        emulator(key, latency=args.latency) as emulated,
        contextlib.ExitStack() as stack,
    ):
        base_url = emulated.base_url
        if args.latency:
            probe = concurrent_calls_seconds(base_url, key, calls=PROBE_CALLS)
            figures["latency_probe_s"] = round(probe, 3)
            print(
                f"emulator latency {args.latency} s: {PROBE_CALLS} simultaneous"
                f" calls took {probe:.3f} s (serialised they would take"
                f" {PROBE_CALLS * args.latency:.2f} s)"
            )
        settings = load_settings(home=Path(folder) / "home")
        started = time.perf_counter()
        before, after = write_sources(Path(folder), args.profiles, args.profiles // 100)
        set_up(settings, before, base_url=base_url, key=key)
        expected = expected_members(before)
        print(
            f"set-up (not timed): {args.profiles:,} messy profiles"
            f" ({expected.invalid:,} invalid, {expected.duplicates:,} duplicates,"
            f" {expected.missing:,} missing), 1 segment, 1 export:"
            f" {time.perf_counter() - started:.1f} s"
        )
        stored = table_path(settings.profiles_folder, settings.profile_table)
        pipes = [
            _timed_pipe(stored, emulated, key=key, in_flight=args.in_flight)
            for _ in range(TRIES)
        ]
        pipe_s, pipe_cpu = min(pipes)
        print(
            f"raw pipe (DuckDB → orjson → httpx POST of 1000 emails,"
            f" {args.in_flight} calls in flight, no validation): {pipe_s:.2f} s,"
            f" the fastest of {', '.join(f'{p:.2f}' for p, _ in pipes)}"
        )
        print(f"  CPU: pipe and emulator {pipe_cpu:.2f} s in {pipe_s:.2f} s wall")
        launcher = stack.enter_context(serving(settings.home)) if args.warm else None
        fresh, part, emulator_cpu = _fresh(
            settings.home, expected, emulated=emulated, key=key, launcher=launcher
        )
        ratio = fresh.wall_s / pipe_s
        bound = (fresh.cpu_s + emulator_cpu) / (os.cpu_count() or 1)
        print(
            f"  CPU bound: that work needs at least {bound:.2f} s on"
            f" {os.cpu_count()} cores: {bound / pipe_s:.2f}x the pipe"
        )
        passes["fresh_ratio"] = ratio <= FRESH_RATIO_BUDGET
        _budget(
            "fresh export vs raw pipe",
            f"{ratio:.2f}x",
            f"{FRESH_RATIO_BUDGET}x",
            passed=passes["fresh_ratio"],
        )
        figures |= {
            "pipe_s": round(pipe_s, 3),
            "fresh_s": round(fresh.wall_s, 3),
            "fresh_ratio": round(ratio, 3),
            "fresh_peak_rss_mb": round(fresh.peak_rss_mb),
            "pipe_cpu_s": round(pipe_cpu, 3),
            "fresh_cpu_s": round(fresh.cpu_s, 3),
            "fresh_emulator_cpu_s": round(emulator_cpu, 3),
            "fresh_cpu_bound_ratio": round(bound / pipe_s, 3),
            "fresh_members": part["added"],
            "fresh_rejects": _rejects(part),
        }
        if not args.fresh_only:
            delta, changes = _churn_runs(
                settings, (after, before), expected, base_url=base_url, key=key,
                launcher=launcher,
            )  # fmt: skip
            noop = _noop(settings.home, launcher=launcher)
            version_s = _version(settings.home)
            passes["delta"] = delta.wall_s <= DELTA_BUDGET_SECONDS
            passes["noop"] = noop.wall_s <= NOOP_BUDGET_SECONDS
            passes["version"] = version_s <= VERSION_BUDGET_SECONDS
            _budget(
                f"churn run, best of {TRIES}",
                f"{delta.wall_s:.2f} s",
                f"{DELTA_BUDGET_SECONDS} s",
                passed=passes["delta"],
            )
            _budget(
                f"no-op run, best of {TRIES}",
                f"{noop.wall_s:.2f} s",
                f"{NOOP_BUDGET_SECONDS} s",
                passed=passes["noop"],
            )
            _budget(
                f"--version, best of {VERSION_TRIES}",
                f"{version_s:.3f} s",
                f"{VERSION_BUDGET_SECONDS} s",
                passed=passes["version"],
            )
            figures |= {
                "delta_s": round(delta.wall_s, 3),
                "delta_peak_rss_mb": round(delta.peak_rss_mb),
                "delta_sent": changes["added"] + changes["removed"],
                "noop_s": round(noop.wall_s, 3),
                "version_s": round(version_s, 3),
            }
    figures["pass"] = passes
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
