"""``/api/v1/connections``: Iterable connections (changes: administrators only).

Everyone lists and reads connections; administrators see their settings (the key
only as its last four characters), others their name and type. Adding checks
the key against Iterable and needs ``i_agree: true`` (the data privacy
statement comes with the refusal). A key is accepted in request bodies only and
never answered, logged or put in an error.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Response, status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StringConstraints,
)

from audiencesync.app.views.connections import (
    AnyConnectionView,
    ConnectionPage,
    KeyCheckView,
    RotationView,
    connection_view,
    key_check_view,
    revision_of,
    rotation_view,
)
from audiencesync.iterable import Region
from audiencesync.web.deps import WorkspaceDep
from audiencesync.web.errors import ERROR_RESPONSES
from audiencesync.web.etag import IfMatch, expected_revision, set_etag
from audiencesync.web.params import Limit, NamePath, Offset, page_of

router = APIRouter(tags=["connections"], responses=ERROR_RESPONSES)

Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255),
    Field(description="The connection's name.", examples=["Iterable US"]),
]
BaseUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048, pattern=r"^[^\x00-\x1f\x7f]*$"),
    Field(description="An explicit API address instead of a region (the emulator)."),
]
ApiKeyText = Annotated[
    SecretStr,
    Field(
        min_length=1,
        max_length=200,
        description="The Iterable server-side API key; never answered back.",
    ),
]


class ConnectionCreate(BaseModel):
    """A new connection: its name, key, where it sends, and consent."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    api_key: ApiKeyText
    region: Region | None = Field(None, description="us (default) or eu.")
    base_url: BaseUrl | None = None
    allow_contributors: StrictBool = Field(
        False, description="Let contributors use it (default: administrators only)."
    )
    i_agree: StrictBool = Field(
        False,
        description="Agree to the data privacy and compliance statement; required.",
    )


class KeyCheck(BaseModel):
    """A key to check against Iterable, and where; nothing is saved."""

    model_config = ConfigDict(extra="forbid")

    api_key: ApiKeyText
    region: Region | None = Field(None, description="us (default) or eu.")
    base_url: BaseUrl | None = None


class ConnectionEdit(BaseModel):
    """The settings to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    allow_contributors: StrictBool | None = Field(
        None, description="Let contributors use it, or not."
    )
    region: Region | None = Field(None, description="Send to this data center.")
    base_url: BaseUrl | None = Field(None, description="Send to this address.")


class KeyChange(BaseModel):
    """A new API key for the connection (checked against Iterable first)."""

    model_config = ConfigDict(extra="forbid")

    api_key: ApiKeyText


def _answer(response: Response, view: AnyConnectionView) -> AnyConnectionView:
    revision = revision_of(view)
    if revision is not None:
        set_etag(response, revision)
    return view


@router.get("/connections", summary="List connections")
def list_connections(
    workspace: WorkspaceDep, limit: Limit = 50, offset: Offset = 0
) -> ConnectionPage:
    """Every connection by name; settings only for administrators."""
    views = [connection_view(info) for info in workspace.connections.list_all()]
    page = page_of(views, limit=limit, offset=offset)
    return ConnectionPage(
        items=page.items, total=page.total, limit=limit, offset=offset
    )


@router.post(
    "/connections",
    status_code=status.HTTP_201_CREATED,
    summary="Add a connection (administrators)",
)
def add_connection(
    body: ConnectionCreate, workspace: WorkspaceDep, response: Response
) -> AnyConnectionView:
    """Check the key against Iterable, then save; you become the export user."""
    info = workspace.connections.add(
        body.name,
        api_key=body.api_key.get_secret_value(),
        region=body.region,
        base_url=body.base_url,
        shared=body.allow_contributors,
        agreed=body.i_agree,
    )
    response.headers["Location"] = f"/api/v1/connections/{quote(info.name, safe='')}"
    return _answer(response, connection_view(info))


@router.post(
    "/connections/check",
    summary="Check an API key without saving (administrators)",
)
def check_key(body: KeyCheck, workspace: WorkspaceDep) -> KeyCheckView:
    """Ask Iterable whether the key is a usable server-side key there."""
    key = body.api_key.get_secret_value()
    target = workspace.connections.check_key(
        api_key=key, region=body.region, base_url=body.base_url
    )
    return key_check_view(key, target)


@router.post(
    "/connections/rotate-keys",
    summary="Re-encrypt every stored key under a new secret key (administrators)",
)
def rotate_keys(workspace: WorkspaceDep) -> RotationView:
    """A new secret key; every readable stored key is re-encrypted under it."""
    return rotation_view(workspace.connections.rotate_keys())


@router.get("/connections/{name:path}", summary="Show a connection")
def get_connection(
    name: NamePath, workspace: WorkspaceDep, response: Response
) -> AnyConnectionView:
    """One connection; settings (and an ETag) only for administrators."""
    return _answer(response, connection_view(workspace.connections.get(name)))


@router.patch(
    "/connections/{name:path}", summary="Change a connection (administrators)"
)
def edit_connection(
    name: NamePath,
    body: ConnectionEdit,
    workspace: WorkspaceDep,
    response: Response,
    if_match: IfMatch = None,
) -> AnyConnectionView:
    """Change who may use it and where it sends (a new address is checked)."""
    info = workspace.connections.edit(
        name,
        shared=body.allow_contributors,
        region=body.region,
        base_url=body.base_url,
        expected_revision=expected_revision(if_match),
    )
    return _answer(response, connection_view(info))


@router.delete(
    "/connections/{name:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a connection no export uses (administrators)",
)
def remove_connection(
    name: NamePath, workspace: WorkspaceDep, if_match: IfMatch = None
) -> Response:
    """Delete it; refused (409) while an export still uses it."""
    workspace.connections.remove(name, expected_revision=expected_revision(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/connections/{name:path}/share",
    summary="Let contributors use a connection (administrators)",
)
def share(
    name: NamePath,
    workspace: WorkspaceDep,
    response: Response,
    if_match: IfMatch = None,
) -> AnyConnectionView:
    """Contributors may now create and run exports on it."""
    info = workspace.connections.set_sharing(
        name, shared=True, expected_revision=expected_revision(if_match)
    )
    return _answer(response, connection_view(info))


@router.post(
    "/connections/{name:path}/unshare",
    summary="Keep a connection for administrators (administrators)",
)
def unshare(
    name: NamePath,
    workspace: WorkspaceDep,
    response: Response,
    if_match: IfMatch = None,
) -> AnyConnectionView:
    """Only administrators may use it from now on; its exports keep running."""
    info = workspace.connections.set_sharing(
        name, shared=False, expected_revision=expected_revision(if_match)
    )
    return _answer(response, connection_view(info))


@router.post(
    "/connections/{name:path}/authorize",
    summary="Become a connection's export user (administrators)",
)
def authorize(
    name: NamePath,
    workspace: WorkspaceDep,
    response: Response,
    if_match: IfMatch = None,
) -> AnyConnectionView:
    """The caller becomes the export user, so exports on it may run."""
    info = workspace.connections.authorize(
        name, expected_revision=expected_revision(if_match)
    )
    return _answer(response, connection_view(info))


@router.put(
    "/connections/{name:path}/key",
    summary="Replace a connection's API key (administrators)",
)
def set_key(
    name: NamePath,
    body: KeyChange,
    workspace: WorkspaceDep,
    response: Response,
    if_match: IfMatch = None,
) -> AnyConnectionView:
    """The new key is checked against Iterable first; a refusal changes nothing."""
    info = workspace.connections.set_key(
        name,
        api_key=body.api_key.get_secret_value(),
        expected_revision=expected_revision(if_match),
    )
    return _answer(response, connection_view(info))
