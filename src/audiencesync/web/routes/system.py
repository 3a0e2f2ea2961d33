"""``/api/v1/me``: who the token belongs to (a cheap check that a token works)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from audiencesync.web.deps import ActorDep
from audiencesync.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["system"], responses=ERROR_RESPONSES)


class Me(BaseModel):
    """The user a token acts as."""

    name: str
    role: str


@router.get("/me", summary="The user this token acts as")
def me(actor: ActorDep) -> Me:
    """Name and role of the token's user."""
    return Me(name=actor.name, role=actor.role.value)
