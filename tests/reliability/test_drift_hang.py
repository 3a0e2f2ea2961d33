"""A drift check Iterable never answers costs seconds, not the client's 30 s each."""

from __future__ import annotations

import pytest

from audiencesync.sync import drift
from audiencesync.sync.statuses import RunStatus
from tests.reliability.figures import Figures
from tests.reliability.proxy import Fault, FaultProxy
from tests.reliability.test_network_faults import MEMBERS, _france, _watched, proxied
from tests.sync.place import Place

pytestmark = pytest.mark.socket

__all__ = ["proxied"]  # the fault matrix's fixture, used here too


def test_a_hung_list_size_read_does_not_hold_the_run(
    proxied: tuple[Place, FaultProxy],
    monkeypatch: pytest.MonkeyPatch,
    reliability_figures: Figures,
) -> None:
    """Both size reads hang: the run still ends Succeeded within a few seconds."""
    place, proxy = proxied
    monkeypatch.setattr(drift, "SIZE_TIMEOUT", 1.0, raising=False)
    proxy.script("/size", Fault("hang"), times=2)  # France's and Germany's
    run, seconds = _watched(place, within=15.0)
    list_id, _, _ = _france(place)
    listed = place.emulator.list_members(list_id)
    reliability_figures.note("run with two hung size reads, seconds", f"{seconds:.1f}")
    assert run is not None, "the run was held by the hung size reads"
    assert run.status is RunStatus.SUCCEEDED
    assert listed == MEMBERS
    assert seconds < 15.0
