"""What the client learnt about a connection's rate limits, kept between runs.

Iterable publishes no limit for list membership calls, so the client finds it
(adaptive limiter). Each run starts from what the previous run on the same
connection learnt, instead of ramping up from a low rate again, and saves what
it learnt when it ends. Stored as a :class:`SystemSetting` per connection.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from audiencesync.iterable.endpoints import Endpoint
from audiencesync.iterable.limits import LearnedRate
from audiencesync.store.accounts import SystemSetting


def setting_key(connection_id: int) -> str:
    """The setting that holds the connection's learnt rates."""
    return f"learned_rates:{connection_id}"


def load_rates(session: Session, connection_id: int) -> dict[Endpoint, LearnedRate]:
    """The rates learnt on the connection so far (none for a new one)."""
    row = session.get(SystemSetting, setting_key(connection_id))
    stored = row.value if row is not None and isinstance(row.value, dict) else {}
    known = {endpoint.value: endpoint for endpoint in Endpoint}
    rates: dict[Endpoint, LearnedRate] = {}
    for name, value in stored.items():
        if name in known and isinstance(value, dict):
            rate, limit = value.get("rate"), value.get("limit")
            if isinstance(rate, int | float) and rate > 0:
                limit = float(limit) if isinstance(limit, int | float) else None
                rates[known[name]] = LearnedRate(float(rate), limit)
    return rates


def save_rates(
    session: Session, connection_id: int, rates: Mapping[Endpoint, LearnedRate]
) -> None:
    """Keep what this run learnt, over what earlier runs learnt."""
    if not rates:
        return
    merged = {e.value: {"rate": r.rate, "limit": r.limit}
              for e, r in load_rates(session, connection_id).items()}  # fmt: skip
    merged |= {e.value: {"rate": r.rate, "limit": r.limit} for e, r in rates.items()}
    row = session.get(SystemSetting, setting_key(connection_id))
    if row is None:
        session.add(SystemSetting(key=setting_key(connection_id), value=merged))
    else:
        row.value = merged
