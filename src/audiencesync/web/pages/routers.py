"""Every page router, in matching order (/exports/new before /exports/{name})."""

from __future__ import annotations

from audiencesync.web.pages.access import router as access_router
from audiencesync.web.pages.connections import router as connections_router
from audiencesync.web.pages.export_form import router as export_form_router
from audiencesync.web.pages.export_page import router as export_page_router
from audiencesync.web.pages.exports import router as exports_router
from audiencesync.web.pages.run_page import router as run_page_router
from audiencesync.web.pages.system import router as system_router

PAGE_ROUTERS = (
    access_router,
    exports_router,
    export_form_router,  # /exports/new before /exports/{name}
    export_page_router,
    connections_router,
    run_page_router,
    system_router,
)
