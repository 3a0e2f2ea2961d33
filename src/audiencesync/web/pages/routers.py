"""Every page router, in matching order (/exports/new before /exports/{name})."""

from __future__ import annotations

from audiencesync.web.pages.access import router as access_router
from audiencesync.web.pages.audit import router as audit_router
from audiencesync.web.pages.connections import router as connections_router
from audiencesync.web.pages.export_form import router as export_form_router
from audiencesync.web.pages.export_page import router as export_page_router
from audiencesync.web.pages.exports import router as exports_router
from audiencesync.web.pages.profiles import router as profiles_router
from audiencesync.web.pages.run_page import router as run_page_router
from audiencesync.web.pages.segments import router as segments_router
from audiencesync.web.pages.segments_detail import router as segments_detail_router
from audiencesync.web.pages.segments_form import router as segments_form_router
from audiencesync.web.pages.system import router as system_router
from audiencesync.web.pages.users import router as users_router

PAGE_ROUTERS = (
    access_router,
    exports_router,
    export_form_router,  # /exports/new before /exports/{name}
    export_page_router,
    connections_router,
    run_page_router,
    segments_router,  # every segment page has a fixed path; the name is a parameter
    segments_form_router,
    segments_detail_router,
    profiles_router,
    users_router,  # /users/new before /users/{name}
    audit_router,
    system_router,
)
