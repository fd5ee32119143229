"""Shared fixtures: the test kit plugin (``profile`` runs a test on both capability profiles)."""

pytest_plugins = ["bot.testing.plugin"]
