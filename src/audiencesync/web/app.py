"""The FastAPI application: the REST API under ``/api/v1``, and the web pages.

``create_app`` takes the process's application context (``serve`` opens one and
keeps it); tests build one over a data folder in a temporary directory.
``openapi_document`` builds the same routes without a context, for the
document alone (docs, the conformance test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from audiencesync import __version__
from audiencesync.app.context import AppContext
from audiencesync.web.body_limit import BodyLimit
from audiencesync.web.errors import install_error_handlers, install_openapi
from audiencesync.web.guards import screen_input
from audiencesync.web.pages.routers import PAGE_ROUTERS
from audiencesync.web.routes import ROUTERS

STATIC = Path(__file__).parent / "static"

API_PREFIX = "/api/v1"


def create_app(context: AppContext) -> FastAPI:
    """The web app over ``context``: routes, error shape and OpenAPI document."""
    app = _routes_and_document()
    app.state.context = context
    return app


def build_app() -> FastAPI:
    """The web app without its context yet (``app.state.context`` must be set).

    FastAPI prepares every route on its first request (about 0.3 s); tests reuse
    one app over many contexts instead of paying that per test.
    """
    return _routes_and_document()


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, as ``/api/v1/openapi.json`` serves it."""
    return _routes_and_document().openapi()


def _routes_and_document() -> FastAPI:
    app = FastAPI(
        title="audiencesync",
        version=__version__,
        summary="Keep customer segments in sync with Iterable lists.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        dependencies=[Depends(screen_input)],
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in PAGE_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_openapi(app)
    return app
