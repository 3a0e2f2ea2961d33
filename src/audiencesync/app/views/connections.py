"""Connections as their readers may see them (design section 6).

Administrators get :class:`ConnectionAdminView`: every setting, the key only as
its last four characters (``…abcd``), and the revision (the ETag of edits).
Contributors and viewers get :class:`ConnectionView`: the name and the type,
nothing more. :func:`connection_view` picks the view the service's record
allows; the service decides, since it checks the reader's role.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from audiencesync.app.views import Page, View
from audiencesync.connections import ConnectionInfo, ConnectionSettings, RotationReport
from audiencesync.connections.records import key_hint
from audiencesync.connections.targets import Target


class ConnectionView(View):
    """What everyone may see of a connection: its name and type."""

    name: str
    type: str = Field(examples=["iterable"])


class ConsentView(View):
    """Who agreed to the data privacy statement, when, and to which version."""

    version: str
    by: str
    at: datetime


class ConnectionSettingsView(View):
    """A connection's settings (administrators only); never the key itself."""

    shared: bool = Field(description="Whether contributors may use it.")
    region: str | None = Field(description="us or eu; null with a base URL.")
    base_url: str | None = Field(description="An explicit API address, or null.")
    key: str = Field(
        description="The API key's last four characters only.", examples=["…abcd"]
    )
    export_user: str | None
    consent: ConsentView
    status: str = Field(examples=["ok"])
    problem: str | None = Field(description="What is wrong, unless status is ok.")
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    revision: int = Field(description="Raised by every change; the ETag of edits.")


class ConnectionAdminView(View):
    """A connection as administrators see it: name, type and settings."""

    name: str
    type: str = Field(examples=["iterable"])
    settings: ConnectionSettingsView


AnyConnectionView = ConnectionAdminView | ConnectionView
"""A connection's view: with its settings for administrators, without otherwise."""


class ConnectionPage(Page[ConnectionAdminView | ConnectionView]):
    """One page of connections, each as its reader may see it."""


def settings_view(settings: ConnectionSettings) -> ConnectionSettingsView:
    """The view of a connection's settings."""
    status = settings.status
    return ConnectionSettingsView(
        shared=settings.shared,
        region=settings.region,
        base_url=settings.base_url,
        key=settings.key_hint,
        export_user=settings.export_user,
        consent=ConsentView(
            version=settings.consent.version,
            by=settings.consent.by,
            at=settings.consent.at,
        ),
        status=status.state.value,
        problem=None if status.is_ok else status.message,
        created_at=settings.created_at,
        created_by=settings.created_by,
        updated_at=settings.updated_at,
        revision=settings.revision,
    )


def connection_view(info: ConnectionInfo) -> AnyConnectionView:
    """The view ``info``'s reader may see: settings only for administrators."""
    if info.settings is None:
        return ConnectionView(name=info.name, type=info.kind)
    return ConnectionAdminView(
        name=info.name, type=info.kind, settings=settings_view(info.settings)
    )


def revision_of(view: AnyConnectionView) -> int | None:
    """The revision an administrator's view carries (None for others)."""
    return view.settings.revision if isinstance(view, ConnectionAdminView) else None


class KeyCheckView(View):
    """A key that Iterable accepted as a server-side key, and where it was checked."""

    valid: bool = True
    key: str = Field(description="The key's last four characters only.")
    region: str | None
    base_url: str | None


def key_check_view(api_key: str, target: Target) -> KeyCheckView:
    """The result of a successful key check (the key only as ``…abcd``)."""
    region, base_url = target
    return KeyCheckView(
        key=key_hint(api_key.strip()[-4:]),
        region=region.value if region is not None else None,
        base_url=base_url,
    )


class RotationView(View):
    """What a rotation of the secret key did."""

    rotated: list[str] = Field(description="Connections whose key was re-encrypted.")
    broken: list[str] = Field(description="Connections whose key could not be read.")
    key_file: str | None = Field(
        description="The rewritten key file; null when the keys are in the environment."
    )


def rotation_view(report: RotationReport) -> RotationView:
    """The view of a rotation report."""
    return RotationView(
        rotated=list(report.rotated),
        broken=list(report.broken),
        key_file=str(report.key_file) if report.key_file is not None else None,
    )
