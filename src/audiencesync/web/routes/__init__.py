"""The API's routers, one module per resource; :data:`ROUTERS` lists them all."""

from __future__ import annotations

from fastapi import APIRouter

from audiencesync.web.routes import (
    audit,
    connections,
    exports,
    profiles,
    schedule,
    segments,
    system,
    users,
)

ROUTERS: tuple[APIRouter, ...] = (
    system.router,
    profiles.router,
    segments.router,
    connections.router,
    exports.router,
    schedule.router,
    users.router,
    audit.router,
)
