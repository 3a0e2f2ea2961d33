"""The project's lists as one run sees them: find by exact name, check, create.

The project's lists are read once per run (``GET /api/lists``) and only when a
segment needs them: to adopt a list with exactly the segment's name on its
first run, or to check that a stored list still exists before planning a delta
against it. Created lists join the run's view at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audiencesync.iterable.models import ListType

if TYPE_CHECKING:
    from audiencesync.iterable.client import IterableClient


class ListFinder:
    """The project's standard lists, by name and by id, read lazily."""

    def __init__(self, client: IterableClient) -> None:
        self._client = client
        self._by_name: dict[str, int] | None = None
        self._ids: set[int] = set()

    async def _load(self) -> dict[str, int]:
        if self._by_name is None:
            self._by_name = {}
            for found in await self._client.list_lists():
                self._ids.add(found.id)
                if found.list_type is ListType.STANDARD:
                    self._by_name.setdefault(found.name, found.id)
        return self._by_name

    async def find(self, name: str) -> int | None:
        """The id of the standard list named exactly ``name``, if there is one."""
        return (await self._load()).get(name)

    async def exists(self, list_id: int) -> bool:
        """Whether the project still has the list ``list_id``."""
        await self._load()
        return list_id in self._ids

    async def create(self, name: str) -> int:
        """A new list named ``name``; its id."""
        by_name = await self._load()
        list_id = await self._client.create_list(name)
        by_name[name] = list_id
        self._ids.add(list_id)
        return list_id

    async def find_or_create(self, name: str) -> tuple[int, str]:
        """The id of the list named exactly ``name`` and how it was got."""
        found = await self.find(name)
        if found is not None:
            return found, "adopted"
        return await self.create(name), "created"

    def forget(self, list_id: int) -> None:
        """Drop a list Iterable said is gone from the run's view."""
        self._ids.discard(list_id)
        if self._by_name is not None:
            for name, known in list(self._by_name.items()):
                if known == list_id:
                    del self._by_name[name]
