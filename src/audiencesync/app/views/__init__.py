"""View models: the one JSON shape of each resource, for ``--json`` and the API.

Each resource's module builds its view from the service's own records; the
command line prints ``view.model_dump(mode="json")`` and the REST API returns the
same model, so the two cannot drift apart. Views never hold a secret (a key is
at most its last four characters, and only for administrators) nor profile data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    """Base of every view: immutable, and no field that is not declared."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def as_json(self) -> dict[str, Any]:
        """The JSON-ready dict (datetimes as ISO 8601 strings, enums as values)."""
        return self.model_dump(mode="json")


ItemT = TypeVar("ItemT", bound=View)


class Page(View, Generic[ItemT]):
    """One page of a long list: its items, the total, and where the next begins."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int


def as_json(views: View | Sequence[View]) -> Any:
    """A view, or a list of views, as JSON-ready data."""
    if isinstance(views, View):
        return views.as_json()
    return [view.as_json() for view in views]
