"""Nothing the client or the emulator logs, or raises, carries the key or an email.

The fault scenarios run with a canary key and canary addresses while every log
record of every logger is captured at DEBUG; then the text of each record (and
of each error raised) is scanned for the key, any 8-character piece of it, and
each address.
"""

from __future__ import annotations

import logging

import pytest

from audiencesync.core.window import RateLimit
from audiencesync.emulator import ApiKeySpec, ScriptedFault
from audiencesync.errors import AudiencesyncError
from audiencesync.iterable import IterableClient, Subscriber
from tests.reliability.figures import Figures

from .conftest import MakeIterable

pytestmark = pytest.mark.anyio

CANARY_KEY = "CanaryKey7Q2xW9vB4nM6pL1zR8tY3uH"
CANARY_EMAILS = [f"canary.person{n}@leak-canary.example" for n in range(3000)]
POISON = "canary.poison@leak-canary.example"


def key_pieces(key: str, size: int = 8) -> set[str]:
    """Every ``size``-character substring of ``key``."""
    return {key[i : i + size] for i in range(len(key) - size + 1)}


async def run_fault_scenarios(client: IterableClient, texts: list[str]) -> None:
    """429s with Retry-After, 5xx, drops, a poison row, a type error, a bad lookup."""
    await client.update_user(
        Subscriber(email=CANARY_EMAILS[0], data_fields={"score": 1})
    )
    list_id = await client.create_list("canary list")
    rows = [Subscriber(email=e, data_fields={"score": 2}) for e in CANARY_EMAILS]
    rows.insert(1234, Subscriber(email=POISON, data_fields={"score": "high"}))
    rows.append(Subscriber(email="Canary Bad@@leak-canary.example"))
    async for _ in client.subscribe_all(list_id, rows):
        pass
    await client.get_list_users(list_id)
    await client.get_user(email=CANARY_EMAILS[1])
    for action in (
        client.update_user(Subscriber(email=POISON, data_fields={"score": "x"})),
        client.get_user(email="not an email@leak-canary.example"),
        client.delete_user(email="nobody.canary@leak-canary.example"),
    ):
        try:
            await action
        except AudiencesyncError as exc:
            texts.append(str(exc))
            texts.append(repr(exc))
    texts.append(repr(client))


async def test_logs_and_errors_never_carry_the_key_or_an_email(
    make_iterable: MakeIterable,
    caplog: pytest.LogCaptureFixture,
    reliability_figures: Figures,
) -> None:
    """Fault scenarios leave no key, key piece or email in any log line or error."""
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    async with make_iterable(
        keys=(ApiKeySpec(key=CANARY_KEY, project_id=1),),
        rates={"lists/subscribe": RateLimit(2, 1.0)},
        retry_after="seconds",
        fault_rate=0.2,
        seed=3,
    ) as it:
        it.emulator.script("lists/subscribe", ScriptedFault(drop=True), times=2)
        async with it.client(CANARY_KEY) as client:
            await run_fault_scenarios(client, texts)
        async with it.client("WrongKey" + CANARY_KEY[8:]) as wrong:
            try:
                await wrong.list_lists()
            except AudiencesyncError as exc:
                texts.append(str(exc))
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    loggers = {record.name for record in caplog.records}
    assert {"audiencesync.iterable", "audiencesync.emulator"} <= loggers
    haystack = "\n".join(texts).lower()
    leaks = [p for p in key_pieces(CANARY_KEY) if p.lower() in haystack]
    leaks += [e for e in [*CANARY_EMAILS, POISON] if e in haystack]
    reliability_figures.record(leaks=len(leaks) + haystack.count("leak-canary"))
    assert "leak-canary" not in haystack
    assert leaks == []
