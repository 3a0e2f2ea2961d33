"""Per-project rate limits: one sliding window per (project, endpoint name).

Defaults are Iterable's published figures (``Endpoint.rate``); endpoints without
a published limit (list create/delete, subscribe, unsubscribe) are unlimited
unless ``EmulatorConfig.rates`` sets one. Only accepted requests use up a window.
"""

from __future__ import annotations

from collections.abc import Mapping

from audiencesync.core.window import RateLimit, SlidingWindow
from audiencesync.emulator.endpoints import ENDPOINTS


def effective_rates(overrides: Mapping[str, RateLimit]) -> dict[str, RateLimit]:
    """The published limits, with ``overrides`` applied on top."""
    rates = {e.name: e.rate for e in ENDPOINTS if e.rate is not None}
    rates.update(overrides)
    return rates


class RateLimiter:
    """Decides whether a request fits its project's window for its endpoint."""

    __slots__ = ("_rates", "_windows")

    def __init__(self, rates: Mapping[str, RateLimit]) -> None:
        self._rates = dict(rates)
        self._windows: dict[tuple[int, str], SlidingWindow] = {}

    def try_acquire(self, project_id: int, name: str, now: float) -> float:
        """0.0 and the request counts, or the seconds until it would fit."""
        rate = self._rates.get(name)
        if rate is None:
            return 0.0
        window = self._windows.get((project_id, name))
        if window is None:
            window = self._windows[project_id, name] = SlidingWindow(rate)
        return window.try_acquire(now)
