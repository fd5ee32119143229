"""Shared fixtures: the test kit's plugin (``profile`` runs a test on Discord-like and Matrix-like)."""

pytest_plugins = ["bot.testing.plugin"]
