"""A faithful local Iterable: the REST API that audiencesync exports to, in-process.

Typical test use::

    emu = Emulator(EmulatorConfig(), clock=ManualClock())
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://iterable") as c:
        ...
    assert emu.list_members(list_id) == {"ana@example.com"}

or over a real socket: ``with serve_in_thread(emu) as base_url: ...``.
See docs/emulator.md for every setting and behaviour.
"""

from __future__ import annotations

from audiencesync.emulator.app import Emulator
from audiencesync.emulator.config import (
    DEFAULT_API_KEY,
    ApiKeySpec,
    EmulatorConfig,
    KeyType,
    ProjectSpec,
    ProjectType,
    RequestRecord,
    ScriptedFault,
)
from audiencesync.emulator.replies import ConnectionDropped
from audiencesync.emulator.server import serve_in_thread

__all__ = [
    "DEFAULT_API_KEY",
    "ApiKeySpec",
    "ConnectionDropped",
    "Emulator",
    "EmulatorConfig",
    "KeyType",
    "ProjectSpec",
    "ProjectType",
    "RequestRecord",
    "ScriptedFault",
    "serve_in_thread",
]
