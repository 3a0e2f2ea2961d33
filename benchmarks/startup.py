"""Time how long the command line takes to start: ``--version`` and the help pages.

Each command runs as a child process (``python -m audiencesync ...``), as a user
meets it, ``--repeat`` times; printed are the best and the median wall clock
against the design's budget of 0.15 s for ``--version`` and ``--help`` (a
command imports only what it uses). A group's and a command's help are shown for
reference, without a budget: they import no service either, but Typer builds
their flags, which loads pydantic (about 0.07 s). Prints the figures, then one
JSON line.

    .venv/bin/python -m benchmarks.startup [--repeat 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

BUDGET_SECONDS = 0.15
CASES: dict[str, tuple[list[str], bool]] = {  # name: (arguments, has a budget)
    "--version": (["--version"], True),
    "--help": (["--help"], True),
    "exports --help": (["exports", "--help"], False),
    "exports run --help": (["exports", "run", "--help"], False),
    "connections add --help": (["connections", "add", "--help"], False),
}


def wall_times(arguments: list[str], repeat: int) -> list[float]:
    """Seconds each of ``repeat`` runs of ``audiencesync arguments`` took."""
    command = [sys.executable, "-m", "audiencesync", *arguments]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)  # noqa: S603
        times.append(time.perf_counter() - started)
    return times


def verdict(best: float, *, budgeted: bool) -> str:
    """PASS or FAIL against the budget, or a note that there is none."""
    if not budgeted:
        return "(no budget)"
    return "PASS" if best <= BUDGET_SECONDS else "FAIL"


def main(argv: list[str] | None = None) -> int:
    """Time every case and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    repeat = parser.parse_args(argv).repeat
    figures: dict[str, dict[str, float]] = {}
    for name, (arguments, budgeted) in CASES.items():
        times = wall_times(arguments, repeat)
        best, median = min(times), statistics.median(times)
        print(
            f"audiencesync {name}: best {best:.3f} s, median {median:.3f} s"
            f" (budget {BUDGET_SECONDS} s) {verdict(best, budgeted=budgeted)}"
        )
        figures[name] = {"best_s": round(best, 3), "median_s": round(median, 3)}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
