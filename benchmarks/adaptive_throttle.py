"""Adaptive throttling against a hidden subscribe limit (design §8).

Starts the emulator as its own process (``audiencesync emulator``) with
``--rate lists/subscribe=LIMIT``, then pushes SUBSCRIBERS users through
``IterableClient.subscribe_all`` with default settings: the client is not told
the limit. Prints calls, 429s, elapsed time, achieved calls/s, and PASS/FAIL
against >= 90 % of the allowed throughput with <= 2 % of calls answered 429.

``--engine`` measures the sync engine instead, as a user runs it: a data folder
with SUBSCRIBERS profiles, and ``audiencesync exports run`` as a child process,
whose in-flight window follows the same limiter. Its elapsed time is the run's
own (planning included, so the share is a lower bound); its 429s are the run's
retries (the emulator answers nothing else but 200 and 429).

    python -m benchmarks.adaptive_throttle                       # 1,000,000 users
    python -m benchmarks.adaptive_throttle --subscribers 100000 --limit 30
    python -m benchmarks.adaptive_throttle --retry-after seconds
    python -m benchmarks.adaptive_throttle --engine --subscribers 300000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from audiencesync.iterable import Endpoint, IterableClient, Subscriber
from audiencesync.settings import load_settings
from benchmarks.export_harness import EXPORT, run_command, set_up

KEY = "audiencesync-emulator-dev-key-01"  # the emulator's default server-side key
MIN_SHARE = 0.90
MAX_429_SHARE = 0.02


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def emulator(limit: int, retry_after: str) -> Iterator[str]:
    """Run ``audiencesync emulator`` on a free port; yield its base URL."""
    port = _free_port()
    command = [
        sys.executable, "-m", "audiencesync", "emulator", "--port", str(port),
        "--rate", f"lists/subscribe={limit}", "--retry-after", retry_after,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"the emulator exited with code {process.returncode}"
            raise RuntimeError(msg)
        with contextlib.suppress(httpx.TransportError):
            httpx.get(f"{base_url}/api/lists", headers={"Api-Key": KEY}, timeout=1)
            return
        time.sleep(0.1)
    msg = "the emulator did not start within 20 s"
    raise RuntimeError(msg)


def _subscribers(count: int) -> Iterator[Subscriber]:
    for i in range(count):
        yield Subscriber(f"user{i:08d}@example.com")


async def run(base_url: str, subscribers: int) -> tuple[int, int, float, int]:
    """Send; return (calls, 429s, elapsed seconds, users accepted)."""
    async with IterableClient(KEY, base_url=base_url) as client:
        list_id = await client.create_list("adaptive-throttle-benchmark")
        accepted = 0
        start = time.perf_counter()
        async for outcome in client.subscribe_all(list_id, _subscribers(subscribers)):
            accepted += len(outcome.result.accepted)
        elapsed = time.perf_counter() - start
        stats = client.stats[Endpoint.SUBSCRIBE]
        return stats.calls, stats.rate_limited, elapsed, accepted


def run_engine(base_url: str, subscribers: int) -> tuple[int, int, float, int]:
    """Export ``subscribers`` profiles with the CLI; (calls, 429s, seconds, users)."""
    with tempfile.TemporaryDirectory(prefix="as-throttle-") as folder:
        source = Path(folder) / "customers.csv"
        with source.open("w", encoding="utf-8") as handle:
            handle.write("customer_id,email\n")
            handle.writelines(
                f"C{i},user{i:08d}@example.com\n" for i in range(subscribers)
            )
        home = Path(folder) / "home"
        set_up(load_settings(home=home), source, base_url=base_url, key=KEY)
        ran = run_command(["exports", "run", EXPORT, "--json"], home=home)
    run = ran.as_json()
    part = run["segments"][0]
    retries = int(part["retries"])
    return part["batches"] + retries, retries, run["duration_seconds"], part["added"]


def main() -> int:
    """Run the benchmark and print its figures; exit 1 on FAIL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--limit", type=int, default=30, help="hidden calls/s")
    parser.add_argument(
        "--retry-after", choices=["none", "seconds", "date"], default="none"
    )
    parser.add_argument(
        "--engine", action="store_true", help="time `exports run`, not the client"
    )
    args = parser.parse_args()
    with emulator(args.limit, args.retry_after) as base_url:
        if args.engine:
            calls, limited, elapsed, accepted = run_engine(base_url, args.subscribers)
        else:
            calls, limited, elapsed, accepted = asyncio.run(
                run(base_url, args.subscribers)
            )
    successful = calls - limited
    achieved = successful / elapsed
    share = achieved / args.limit
    limited_share = limited / calls if calls else 0.0
    passed = share >= MIN_SHARE and limited_share <= MAX_429_SHARE
    what = "`audiencesync exports run`" if args.engine else "IterableClient"
    print(f"sender            {what}")
    print(f"subscribers       {args.subscribers:,} (accepted {accepted:,})")
    print(f"hidden limit      {args.limit} calls/s, Retry-After: {args.retry_after}")
    print(f"calls             {calls:,}")
    print(f"429 answers       {limited:,} ({limited_share:.2%} of calls)")
    print(f"elapsed           {elapsed:.1f} s")
    print(f"achieved          {achieved:.2f} accepted calls/s")
    print(f"share of allowed  {share:.1%}")
    verdict = "PASS" if passed else "FAIL"
    target = f">= {MIN_SHARE:.0%} of allowed, <= {MAX_429_SHARE:.0%} 429s"
    print(f"{verdict}  (target: {target})")
    assert accepted == args.subscribers, "every subscriber must be accepted"
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
