"""What help pages show without loading the services matches the services.

A few defaults and choices are written in the command modules themselves, so
that ``--help`` imports no service (issue 14); each must stay what the service
layer uses.
"""

from __future__ import annotations

from typing import get_args

from audiencesync.app import home
from audiencesync.auth import audit as audit_log
from audiencesync.cli import audit, connections, init, quickstart
from audiencesync.demo import quickstart as demo
from audiencesync.iterable import Region


def test_init_offers_the_services_default_administrator() -> None:
    """``init --admin`` defaults to the name ``initialize`` uses."""
    assert init.DEFAULT_ADMIN == home.DEFAULT_ADMIN


def test_audit_shows_the_services_default_page() -> None:
    """``audit --limit`` defaults to the audit log's own page size."""
    assert audit.DEFAULT_LIMIT == audit_log.DEFAULT_LIMIT


def test_quickstart_makes_the_demos_default_sample() -> None:
    """``quickstart --profiles`` defaults to the demo's sample size."""
    assert quickstart.DEFAULT_PROFILES == demo.DEFAULT_PROFILES


def test_connections_add_offers_every_region() -> None:
    """``connections add --region`` lists exactly Iterable's data centers."""
    assert get_args(connections.RegionName) == tuple(region.value for region in Region)
