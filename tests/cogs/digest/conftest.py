"""The encoder is loaded once per test session (about 2 s)."""

from __future__ import annotations

import pytest

from cogs.digest import analysis as an


@pytest.fixture(scope="session")
def encoder() -> an.Encoder:
    """The bundled multilingual encoder."""
    return an.default_encoder()
