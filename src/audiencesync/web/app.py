"""The FastAPI application: the REST API under ``/api/v1``.

``create_app`` takes the process's application context (``serve`` opens one and
keeps it); tests build one over a data folder in a temporary directory.
"""

from __future__ import annotations

from fastapi import FastAPI

from audiencesync import __version__
from audiencesync.app.context import AppContext
from audiencesync.web.errors import install_error_handlers
from audiencesync.web.routes import ROUTERS

API_PREFIX = "/api/v1"


def create_app(context: AppContext) -> FastAPI:
    """The web app over ``context``: routes, error shape and OpenAPI document."""
    app = FastAPI(
        title="audiencesync",
        version=__version__,
        summary="Keep customer segments in sync with Iterable lists.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.context = context
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    return app
