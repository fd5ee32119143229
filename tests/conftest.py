"""Shared fixtures: the test kit plugin (``profile`` runs a test on both capability profiles)
and a real PostgreSQL server for the tests that run on both databases."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.testing.postgres import binaries, postgres_server

pytest_plugins = ["bot.testing.plugin"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database on loopback: ``CERCLE_TEST_POSTGRES_URL``, or one we start."""
    given = os.environ.get("CERCLE_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run must install it (apt postgresql)")
        pytest.skip("PostgreSQL server binaries not found: apt-get install postgresql")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """``None`` (the harness's SQLite file) or a real PostgreSQL: run a cog test on both."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    return url
