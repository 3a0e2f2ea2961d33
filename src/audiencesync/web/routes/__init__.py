"""The API's routers, one module per resource; :data:`ROUTERS` lists them all."""

from __future__ import annotations

from fastapi import APIRouter

from audiencesync.web.routes import run_events, system

ROUTERS: tuple[APIRouter, ...] = (
    system.router,
    run_events.router,
)
