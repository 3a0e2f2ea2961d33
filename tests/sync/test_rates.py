"""Learnt rate limits are kept per connection between runs."""

from __future__ import annotations

import pytest

from audiencesync.app.workspace import open_workspace
from audiencesync.iterable.endpoints import Endpoint
from audiencesync.iterable.limits import LearnedRate
from audiencesync.store.accounts import SystemSetting
from audiencesync.sync.rates import load_rates, save_rates, setting_key
from tests.sync.place import Place

pytestmark = pytest.mark.socket


def test_a_run_keeps_what_its_client_learnt(place: Place) -> None:
    """After a run the connection remembers the subscribe rate it reached."""
    place.run()
    with (
        open_workspace(place.settings) as workspace,
        workspace.database.session() as session,
    ):
        rates = load_rates(session, 1)
    assert Endpoint.SUBSCRIBE in rates
    assert rates[Endpoint.SUBSCRIBE].rate > 0


def test_saved_rates_merge_with_earlier_ones(place: Place) -> None:
    """A run that used only unsubscribe keeps the subscribe rate learnt before."""
    with (
        open_workspace(place.settings) as workspace,
        workspace.database.session() as session,
    ):
        save_rates(session, 9, {Endpoint.SUBSCRIBE: LearnedRate(50.0, 60.0)})
        save_rates(session, 9, {Endpoint.UNSUBSCRIBE: LearnedRate(20.0)})
        rates = load_rates(session, 9)
    assert rates == {
        Endpoint.SUBSCRIBE: LearnedRate(50.0, 60.0),
        Endpoint.UNSUBSCRIBE: LearnedRate(20.0),
    }


def test_damaged_stored_rates_are_ignored(place: Place) -> None:
    """Unknown endpoints and non-numbers are skipped, not trusted."""
    with (
        open_workspace(place.settings) as workspace,
        workspace.database.session() as session,
    ):
        session.add(SystemSetting(key=setting_key(7), value={
            "POST /api/lists/subscribe": {"rate": "fast"},
            "GET /nowhere": {"rate": 5},
            "POST /api/lists/unsubscribe": {"rate": 12.5, "limit": None},
        }))  # fmt: skip
        session.flush()
        assert load_rates(session, 7) == {Endpoint.UNSUBSCRIBE: LearnedRate(12.5)}
