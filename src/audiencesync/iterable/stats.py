"""Per-endpoint counters for benchmarks, tests and progress displays."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class EndpointStats:
    """What one endpoint cost so far. Counts only; never identifiers."""

    calls: int = 0
    rate_limited: int = 0
    retries: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0

    @property
    def rate_limited_share(self) -> float:
        """Share of calls answered 429."""
        return self.rate_limited / self.calls if self.calls else 0.0
