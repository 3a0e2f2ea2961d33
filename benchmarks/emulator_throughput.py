"""How many subscribers per second the emulator accepts (rate limits off).

Starts ``audiencesync emulator --no-rate-limits`` as a subprocess, creates a list,
then drives it from ``--workers`` load processes, each holding ``--connections``
keep-alive sockets and sending pre-encoded 1000-subscriber bodies of distinct,
new emails. Prints subscribers/s, calls/s and p50/p99 call latency.

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

import httpx
import orjson

from audiencesync.emulator import DEFAULT_API_KEY

BATCH = 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _request(port: int, list_id: int, worker: int, batch: int) -> bytes:
    subscribers = [
        {"email": f"user{worker}-{batch}-{n}@example.com"} for n in range(BATCH)
    ]
    body = orjson.dumps({"listId": list_id, "subscribers": subscribers})
    head = (
        f"POST /api/lists/subscribe HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Api-Key: {DEFAULT_API_KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(
    port: int, requests: list[bytes], deadline: float, latencies: list[float]
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    accepted = 0
    for request in requests:
        if time.perf_counter() >= deadline:
            break
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:40]
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        body = orjson.loads(await reader.readexactly(length))
        latencies.append(time.perf_counter() - started)
        accepted += body["successCount"]
    writer.close()
    return accepted


Result = tuple[int, list[float], float]
Job = tuple[int, int, int, int, float, int]
"""(port, list id, worker number, connections, seconds, calls per connection)."""


async def _drive(job: Job) -> Result:
    port, list_id, worker, connections, seconds, calls = job
    per_connection = [
        [_request(port, list_id, worker * 1000 + c, n) for n in range(calls)]
        for c in range(connections)
    ]
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    counts = await asyncio.gather(
        *(_connection(port, reqs, deadline, latencies) for reqs in per_connection)
    )
    return sum(counts), latencies, time.perf_counter() - started


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


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
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
        calls = int(args.seconds * 600 / (args.workers * args.connections)) + 10
        jobs = [
            (port, list_id, w, args.connections, args.seconds, calls)
            for w in range(args.workers)
        ]
        with multiprocessing.Pool(args.workers) as pool:
            results = pool.map(_worker, jobs)
    finally:
        server.terminate()
        server.wait()
    _report(results)


def _report(results: list[Result]) -> None:
    accepted = sum(count for count, _, _ in results)
    elapsed = max(seconds for _, _, seconds in results)
    latencies = sorted(t for _, times, _ in results for t in times)
    p99 = latencies[int(len(latencies) * 0.99)]
    print(f"subscribers accepted: {accepted} in {elapsed:.2f} s")
    print(f"subscribers/s: {accepted / elapsed:,.0f}")
    print(f"calls/s: {len(latencies) / elapsed:,.1f} ({BATCH} subscribers per call)")
    print(
        f"latency p50: {statistics.median(latencies) * 1000:.1f} ms,"
        f" p99: {p99 * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
