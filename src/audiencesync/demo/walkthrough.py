"""A short, printed tour of the Iterable client against the bundled emulator.

``make demo`` runs it (``audiencesync walkthrough``) until ``quickstart`` exists.
The emulator runs on a real loopback socket with a hidden subscribe limit and a
share of 5xx answers, so the tour also shows throttling and retries at work.
Only counts are reported: no email address is ever printed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from audiencesync.core.window import RateLimit
from audiencesync.emulator import (
    DEFAULT_API_KEY,
    Emulator,
    EmulatorConfig,
    serve_in_thread,
)
from audiencesync.errors import FatalError
from audiencesync.iterable import (
    BatchOutcome,
    Endpoint,
    IterableClient,
    Subscriber,
)

Say = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class TourSettings:
    """How big the tour is and how hostile its emulator."""

    profiles: int = 50_000
    leavers: int = 5_000
    subscribe_limit: int = 10
    fault_rate: float = 0.05
    seed: int = 7


def sample_subscribers(count: int) -> Iterator[Subscriber]:
    """Synthetic profiles; every 100th address is malformed on purpose."""
    tiers = ("bronze", "silver", "gold")
    for n in range(count):
        email = f"customer{n}@example.com" if n % 100 else f"customer{n}@@example"
        fields = {"tier": tiers[n % 3], "lifetimeValue": float(1000 + n % 5000)}
        yield Subscriber(email=email, data_fields=fields)


async def run_tour(say: Say, settings: TourSettings = TourSettings()) -> None:
    """Start the emulator, walk through the client's calls, and report each step."""
    config = EmulatorConfig(
        rates={"lists/subscribe": RateLimit(settings.subscribe_limit, 1.0)},
        fault_rate=settings.fault_rate,
        seed=settings.seed,
    )
    with serve_in_thread(Emulator(config)) as base_url:
        say(
            "Emulator",
            f"Iterable emulator at {base_url}: email project, hidden limit of "
            f"{settings.subscribe_limit} subscribe calls/s, "
            f"{settings.fault_rate:.0%} of answers are 5xx",
        )
        async with IterableClient(DEFAULT_API_KEY, base_url=base_url) as client:
            await _tour(client, say, settings)
        await _bad_key(base_url, say)


async def _tour(client: IterableClient, say: Say, settings: TourSettings) -> None:
    lists = await client.list_lists()
    say("Connect", f"key accepted by GET /api/lists ({len(lists)} lists so far)")
    list_id = await client.create_list("France, lifetime value over 1000")
    say("Create list", f"'France, lifetime value over 1000' has listId {list_id}")
    await _subscribe(client, list_id, say, settings)
    members = await client.get_list_users(list_id)
    size = await client.get_list_size(list_id)
    say("Read back", f"getUsers returns {len(members):,} members; size says {size:,}")
    leavers = [Subscriber(email=e) for e in members[: settings.leavers]]
    removed = Counter[str]()
    async for outcome in client.unsubscribe_all(list_id, leavers):
        removed["accepted"] += len(outcome.result.accepted)
    size = await client.get_list_size(list_id)
    say(
        "Unsubscribe",
        f"{removed['accepted']:,} leavers removed (channelUnsubscribe false); "
        f"size now {size:,}",
    )
    fields = await client.get_fields()
    shown = ", ".join(f"{name}: {kind}" for name, kind in sorted(fields.items()))
    say("Field types", f"locked project-wide by the first value: {shown}")


async def _subscribe(
    client: IterableClient, list_id: int, say: Say, settings: TourSettings
) -> None:
    started = time.perf_counter()
    outcomes: list[BatchOutcome] = [
        outcome
        async for outcome in client.subscribe_all(
            list_id, sample_subscribers(settings.profiles)
        )
    ]
    elapsed = time.perf_counter() - started
    accepted = sum(len(o.result.accepted) for o in outcomes)
    buckets = Counter(r.bucket.value for o in outcomes for r in o.result.rejected)
    stats = client.stats[Endpoint.SUBSCRIBE]
    say(
        "Subscribe",
        f"{accepted:,} of {settings.profiles:,} profiles accepted in "
        f"{len(outcomes)} batches, {elapsed:.1f}s "
        f"({stats.calls} calls, {stats.rate_limited} answered 429, "
        f"{stats.retries} retried)",
    )
    say("Rejects", ", ".join(f"{n:,} {b}" for b, n in buckets.items()) or "none")


async def _bad_key(base_url: str, say: Say) -> None:
    async with IterableClient("x" * 32, base_url=base_url) as client:
        try:
            await client.list_lists()
        except FatalError as exc:
            say("Bad key", f"refused at once, no retry: {exc}")
