"""Pytest fixtures of the test kit: ``profile`` runs a test on both capability profiles.

Load it from a ``conftest.py`` with ``pytest_plugins = ["bot.testing.plugin"]``.
"""

from __future__ import annotations

import pytest

from bot.testing import PROFILES


@pytest.fixture(params=sorted(PROFILES))
def profile(request: pytest.FixtureRequest) -> str:
    """The name of a capability profile: each test using it runs once per profile."""
    name: str = request.param
    return name
