"""Shared fixtures: the test kit plugin (``profile`` runs a test on both capability profiles)
and a real PostgreSQL server for the tests that run on both databases."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from bot.testing.postgres import PostgresServer, binaries, postgres_cluster, postgres_server

pytest_plugins = ["bot.testing.plugin"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database on loopback: ``CERCLE_TEST_POSTGRES_URL``, or one we start."""
    given = os.environ.get("CERCLE_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    _require_postgres()
    with postgres_server() as url:
        yield url


def _require_postgres() -> None:
    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run must install it (apt postgresql)")
        pytest.skip("PostgreSQL server binaries not found: apt-get install postgresql")


@pytest.fixture(scope="session")
def _restartable_cluster() -> Iterator[PostgresServer]:
    _require_postgres()
    # Durable commits: a test that crashes it must find every committed row afterwards.
    with postgres_cluster(durable=True) as server:
        yield server


@pytest.fixture
def restartable_postgres(_restartable_cluster: PostgresServer) -> Iterator[PostgresServer]:
    """A PostgreSQL server of its own, which the test may stop, restart or crash.

    It is not the server of ``postgres_url`` (the other tests keep theirs), it is running when
    the test starts and is started again after it if the test left it stopped. Make a fresh
    database with ``restartable_postgres_url``.
    """
    if not _restartable_cluster.running:
        _restartable_cluster.start()
    yield _restartable_cluster
    if not _restartable_cluster.running:
        _restartable_cluster.start()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """``None`` (the harness's SQLite file) or a real PostgreSQL: run a cog test on both."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    return url


_fresh_databases = itertools.count(1)


@pytest.fixture
def restartable_postgres_url(restartable_postgres: PostgresServer) -> str:
    """The URL of a new, empty database on ``restartable_postgres``."""
    return restartable_postgres.create_database(f"restart_{next(_fresh_databases)}")
