"""A stop is bounded: stuck adapters and cogs are logged and abandoned, and after SIGTERM the
process ends by its deadline even when a thread or a task would hold it up."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import pytest

from bot import app, shutdown
from bot.cog import Cog
from bot.testing import Harness

ROOT = Path(__file__).parents[2]
#: Generous bounds on waits for a process (not measurements).
WAIT = 10.0


class Stuck(Cog):
    name = "stuck"

    async def on_stop(self) -> None:
        await asyncio.Event().wait()


class Broken(Cog):
    name = "broken"

    async def on_stop(self) -> None:
        raise RuntimeError("the stop went wrong")


class Tidy(Cog):
    name = "tidy"
    stopped = 0

    async def on_stop(self) -> None:
        type(self).stopped += 1


async def test_stuck_and_failing_parts_are_logged_and_the_others_still_stop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(app, "STOP_ADAPTERS", 0.2)
    monkeypatch.setattr(app, "STOP_COGS", 0.2)
    async with Harness("matrix", cogs=[Stuck, Broken, Tidy]) as h:

        async def hang() -> None:
            await asyncio.Event().wait()

        monkeypatch.setattr(h.platform, "stop", hang)
        Tidy.stopped = 0
        with caplog.at_level(logging.ERROR, logger="cercle"):
            await asyncio.wait_for(h.bot.stop(), WAIT)
        assert Tidy.stopped == 1
        assert "adapter matrix did not stop within 0.2 s: abandoned" in caplog.text
        assert "cog Stuck did not stop within 0.2 s: abandoned" in caplog.text
        assert "cog Broken did not stop cleanly" in caplog.text
        assert "RuntimeError: the stop went wrong" in caplog.text  # with its traceback


#: A process that stops on a signal, then leaves a thread that never ends (as an embedding
#: batch in a worker thread did): asyncio and the interpreter would wait for it forever.
CHILD = """
import asyncio, logging, sys, threading
from bot.shutdown import stop_on_signals

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

async def main():
    stopping = asyncio.Event()
    stop_on_signals(stopping.set, deadline=float(sys.argv[1]))
    print("ready", flush=True)
    await stopping.wait()
    print("stopping", flush=True)
    if sys.argv[2] == "stuck":
        asyncio.get_running_loop().run_in_executor(None, threading.Event().wait)

asyncio.run(main())
"""


async def _child(deadline: float, how: str) -> asyncio.subprocess.Process:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(deadline), how,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    assert await asyncio.wait_for(child.stdout.readline(), WAIT) == b"ready\n"
    return child


async def _ended(child: asyncio.subprocess.Process) -> tuple[int | None, str]:
    _, err = await asyncio.wait_for(child.communicate(), WAIT)
    return child.returncode, err.decode()


async def test_sigterm_with_nothing_stuck_stops_cleanly_before_the_deadline() -> None:
    child = await _child(0.5, "clean")
    child.send_signal(signal.SIGTERM)
    code, err = await _ended(child)
    assert code == 0, err
    assert "SIGTERM received: stopping" in err and "still stopping" not in err


async def test_a_thread_that_never_ends_is_abandoned_at_the_deadline() -> None:
    child = await _child(0.5, "stuck")
    child.send_signal(signal.SIGTERM)
    code, err = await _ended(child)
    assert code == shutdown.EXIT_ABANDONED, err
    assert "still stopping 0.5 s after SIGTERM: ending now (threads left: " in err
    assert "asyncio_0" in err  # the worker thread that held it up is named


async def test_a_second_signal_ends_the_process_at_once() -> None:
    child = await _child(600, "stuck")  # a deadline the test would never see
    assert child.stdout is not None
    child.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(child.stdout.readline(), WAIT) == b"stopping\n"
    child.send_signal(signal.SIGINT)
    code, err = await _ended(child)
    assert code == shutdown.EXIT_ABANDONED, err
    assert "still stopping at a second signal (SIGINT)" in err
