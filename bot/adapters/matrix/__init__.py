"""The Matrix adapter: matrix-nio against any homeserver, unencrypted rooms only (v1).

The names below load on first use, so reading the configuration (which imports
:mod:`bot.adapters.matrix.settings`) does not import matrix-nio.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.adapters.matrix.platform import MatrixPlatform, RateLimited

__all__ = ["MatrixPlatform", "RateLimited"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.platform"), name)
