"""Injected faults: seeded random 5xx answers and drops, and scripted answers.

All randomness comes from one ``random.Random(seed)``, drawn in request order, so
the same seed and the same request sequence give the same faults.
"""

from __future__ import annotations

import random
from collections import deque

from audiencesync.emulator.config import ScriptedFault

FAULT_STATUSES = (500, 502, 503, 504)


class FaultPlan:
    """Which requests fail, and how."""

    __slots__ = ("_drop_rate", "_fault_rate", "_random", "_scripted")

    def __init__(self, *, fault_rate: float, drop_rate: float, seed: int) -> None:
        self._fault_rate = fault_rate
        self._drop_rate = drop_rate
        self._random = random.Random(seed)
        self._scripted: dict[str, deque[ScriptedFault]] = {}

    def script(self, endpoint: str, fault: ScriptedFault, times: int) -> None:
        """Queue ``fault`` for the next ``times`` requests to ``endpoint``."""
        self._scripted.setdefault(endpoint, deque()).extend([fault] * times)

    def clear_scripts(self) -> None:
        """Forget every scripted fault still waiting."""
        self._scripted.clear()

    def take_scripted(self, name: str, template: str) -> ScriptedFault | None:
        """The next scripted answer for an endpoint (by name, then by template)."""
        for key in (name, template):
            queue = self._scripted.get(key)
            if queue:
                return queue.popleft()
        return None

    def draw_status(self) -> int | None:
        """A 5xx status for this request, or None to answer it for real."""
        if self._fault_rate and self._random.random() < self._fault_rate:
            return self._random.choice(FAULT_STATUSES)
        return None

    def draw_drop(self) -> bool:
        """True when this write request should be applied and then dropped."""
        return bool(self._drop_rate) and self._random.random() < self._drop_rate
