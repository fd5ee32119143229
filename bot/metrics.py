"""Operational counters, exposed to Prometheus when ``--metrics-port`` is given."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class Metrics:
    """The bot's counters; each bot has its own registry (tests run many bots)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "cercle_messages_handled",
            "Events handled, by platform and kind.",
            ["platform", "kind"],
            registry=self.registry,
        )
        self.moderation = Counter(
            "cercle_moderation_actions",
            "Messages the courtesy rules acted on, by category and outcome.",
            ["category", "visibility"],
            registry=self.registry,
        )
        self.jobs = Counter(
            "cercle_jobs",
            "Scheduled job runs, by outcome (ran, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "cercle_commands_throttled",
            "Commands refused because a member sent too many too fast.",
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "cercle_dead_letters",
            "Events set aside after every attempt at handling them failed.",
            registry=self.registry,
        )
        self.adapters_connected = Gauge(
            "cercle_adapters_connected",
            "Chat adapters currently connected.",
            registry=self.registry,
        )
        # labels() takes a lock and builds a key each call: once per label set is enough.
        self._handled: dict[tuple[str, str], Counter] = {}
        self._moderated: dict[tuple[str, str], Counter] = {}

    def handled(self, platform: str, kind: str) -> None:
        """Count one event handled (``cercle_messages_handled``)."""
        child = self._handled.get((platform, kind))
        if child is None:
            child = self._handled[(platform, kind)] = self.messages.labels(platform, kind)
        child.inc()

    def moderated(self, category: str, visibility: str) -> None:
        """Count one message the courtesy rules acted on (``cercle_moderation_actions``)."""
        child = self._moderated.get((category, visibility))
        if child is None:
            child = self._moderated[(category, visibility)] = self.moderation.labels(
                category, visibility
            )
        child.inc()

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Expose ``/metrics`` over HTTP (a background thread of prometheus_client)."""
        start_http_server(port, addr=host, registry=self.registry)

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when never incremented); for health output and tests."""
        found = self.registry.get_sample_value(name, labels)
        return found or 0.0
