"""The Matrix adapter: matrix-nio against any homeserver, unencrypted rooms only (v1)."""

from bot.adapters.matrix.platform import MatrixPlatform, RateLimited

__all__ = ["MatrixPlatform", "RateLimited"]
