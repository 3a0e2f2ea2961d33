"""How many subscribers per second the emulator accepts (rate limits off).

Starts ``audiencesync emulator --no-rate-limits`` as a subprocess, creates a list,
then drives ``POST /api/lists/subscribe`` over loopback from ``--workers`` load
processes (one by default: the machine's cores are shared with the emulator),
each holding ``--connections`` keep-alive sockets. Every call carries 1000 new,
distinct emails: each body is stamped from a pre-encoded template by replacing a
fixed-width marker with the call's own number, so the load process stays lean.
Prints subscribers/s, calls/s, p50/p99 call latency, how busy both processes
were, the emulator's peak RSS, and PASS/FAIL against the acceptance bar.

    .venv/bin/python benchmarks/emulator_throughput.py --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from audiencesync.emulator import DEFAULT_API_KEY
from benchmarks.export_harness import cpu_seconds

BATCH = 1000
BAR = 300_000
MARKER = b"#" * 14  # worker (3) + connection (3) + call (8) digits
MIN_SECONDS = 5.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _template(port: int, list_id: int) -> bytes:
    """A whole request whose emails all contain MARKER (same length as a stamp)."""
    marker = MARKER.decode()
    subscribers = [{"email": f"user-{marker}-{n}@example.com"} for n in range(BATCH)]
    body = orjson.dumps({"listId": list_id, "subscribers": subscribers})
    head = (
        f"POST /api/lists/subscribe HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Api-Key: {DEFAULT_API_KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _stamp(template: bytes, worker: int, connection: int, call: int) -> bytes:
    """The template with new emails: unique per (worker, connection, call, row)."""
    stamp = b"%03d%03d%08d" % (worker, connection, call)
    return template.replace(MARKER, stamp)


async def _connection(
    template: bytes,
    worker: int,
    number: int,
    *,
    deadline: float,
    latencies: list[float],
    port: int,
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    accepted = call = 0
    while time.perf_counter() < deadline:
        request = _stamp(template, worker, number, call)
        call += 1
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:40]
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        body = orjson.loads(await reader.readexactly(length))
        latencies.append(time.perf_counter() - started)
        assert body["successCount"] == BATCH, body
        accepted += body["successCount"]
    writer.close()
    return accepted


@dataclass(frozen=True)
class Job:
    """One load process's work."""

    port: int
    list_id: int
    worker: int
    connections: int
    seconds: float


@dataclass(frozen=True)
class Result:
    """What one load process measured."""

    accepted: int
    latencies: list[float]
    elapsed: float
    cpu: float


async def _drive(job: Job) -> Result:
    template = _template(job.port, job.list_id)
    latencies: list[float] = []
    cpu, started = time.process_time(), time.perf_counter()
    deadline = started + job.seconds
    counts = await asyncio.gather(
        *(
            _connection(
                template,
                job.worker,
                c,
                deadline=deadline,
                latencies=latencies,
                port=job.port,
            )
            for c in range(job.connections)
        )
    )
    elapsed = time.perf_counter() - started
    return Result(sum(counts), latencies, elapsed, time.process_time() - cpu)


def _worker(job: Job) -> Result:
    return asyncio.run(_drive(job))


def _start_server(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "audiencesync", "emulator"]
    command += ["--no-rate-limits", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - our own CLI
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/lists", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.05)
        else:
            return server
    server.kill()
    msg = "the emulator did not start"
    raise RuntimeError(msg)


def _peak_rss_mb(pid: int) -> float:
    """Peak resident set size of ``pid`` in MiB (VmHWM in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _check_all_new(port: int, list_id: int, accepted: int) -> None:
    """Every accepted subscriber was a new member: the list holds exactly as many."""
    size = httpx.get(
        f"http://127.0.0.1:{port}/api/lists/{list_id}/size",
        headers={"Api-Key": DEFAULT_API_KEY},
    )
    assert int(size.text) == accepted, (size.text, accepted)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=MIN_SECONDS)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    port = _free_port()
    server = _start_server(port)
    try:
        created = httpx.post(
            f"http://127.0.0.1:{port}/api/lists",
            json={"name": "benchmark"},
            headers={"Api-Key": DEFAULT_API_KEY},
        )
        list_id = created.json()["listId"]
        jobs = [
            Job(port, list_id, w, args.connections, args.seconds)
            for w in range(args.workers)
        ]
        with multiprocessing.Pool(args.workers) as pool:
            cpu, wall = cpu_seconds(server.pid), time.perf_counter()
            results = pool.map(_worker, jobs)
            busy = (cpu_seconds(server.pid) - cpu) / (time.perf_counter() - wall)
        peak_mb = _peak_rss_mb(server.pid)
        _check_all_new(port, list_id, sum(r.accepted for r in results))
    finally:
        server.terminate()
        server.wait()
    _report(results, busy, peak_mb)


def _report(results: list[Result], server_busy: float, peak_mb: float) -> None:
    accepted = sum(r.accepted for r in results)
    elapsed = max(r.elapsed for r in results)
    latencies = sorted(t for r in results for t in r.latencies)
    p99 = latencies[int(len(latencies) * 0.99)]
    rate = accepted / elapsed
    print(f"subscribers accepted: {accepted} in {elapsed:.2f} s")
    print(f"subscribers/s: {rate:,.0f}")
    print(f"calls/s: {len(latencies) / elapsed:,.1f} ({BATCH} subscribers per call)")
    print(
        f"latency p50: {statistics.median(latencies) * 1000:.1f} ms,"
        f" p99: {p99 * 1000:.1f} ms"
    )
    load_cpu = sum(r.cpu for r in results)
    print(
        f"CPU busy: emulator {server_busy:.0%},"
        f" load {load_cpu / elapsed:.0%} (of one core each)"
    )
    print(f"emulator peak RSS: {peak_mb:,.0f} MiB")
    print(f"list size: {accepted:,} (every accepted subscriber is a new member)")
    verdict = "PASS" if rate >= BAR else "FAIL"
    print(f"{verdict}: {rate:,.0f} subscribers/s (bar: {BAR:,})")


if __name__ == "__main__":
    main()
