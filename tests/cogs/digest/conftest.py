"""The encoder is loaded once per test session (about 2 s)."""

from __future__ import annotations

import pytest

from cogs.digest import clustering, model


@pytest.fixture(scope="session")
def encoder() -> model.Encoder:
    """The bundled multilingual encoder."""
    return clustering.default_encoder()
