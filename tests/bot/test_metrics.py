"""Operational counters and their Prometheus endpoint."""

from __future__ import annotations

import socket
import urllib.request

from bot.metrics import Metrics
from bot.testing import Harness


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_messages_and_jobs_are_counted(profile: str) -> None:
    async with Harness(profile, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.command("hana", "/prompt now")
        await h.advance("7d")
        m = h.bot.metrics
        assert m.value("cercle_messages_handled_total", platform=profile, kind="MessagePosted") >= 1
        assert m.value("cercle_jobs_total", outcome="ran") >= 2  # reminder and close


def test_prometheus_endpoint_serves_the_counters() -> None:
    metrics = Metrics()
    metrics.messages.labels("console", "MessagePosted").inc(3)
    port = _free_port()
    metrics.serve(port)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        body = response.read().decode()
    assert 'cercle_messages_handled_total{kind="MessagePosted",platform="console"} 3.0' in body
