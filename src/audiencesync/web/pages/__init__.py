"""The web pages (server-rendered HTML) that ``audiencesync serve`` shows.

They call the same services as the CLI and the REST API, as the signed-in
user: the role checks are the services' own.
"""

from __future__ import annotations

from audiencesync.web.pages.access import router as access_router
from audiencesync.web.pages.connections import router as connections_router
from audiencesync.web.pages.exports import router as exports_router

PAGE_ROUTERS = (access_router, exports_router, connections_router)
