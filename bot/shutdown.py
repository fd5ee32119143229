"""Stopping on SIGTERM or SIGINT within a bounded time, whatever is still running.

The bot's own stop is bounded part by part (:meth:`bot.app.Bot.stop`), but two things after it
are not: asyncio and the interpreter wait, as they end, for every worker thread (a computation
in the middle of a batch) and for every task to finish its cancellation. The deadline armed
here ends the process when they take too long, after logging what was left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any, Final

log = logging.getLogger("cercle")

#: Exit code of a process ended at its deadline (or by a second signal), work abandoned.
EXIT_ABANDONED: Final = 3
#: After SIGTERM or SIGINT the process ends within this many seconds (issue #12: within 5 s),
#: a little after the sum of the bot's own bounds (``bot.app.STOP_*``).
EXIT_DEADLINE: Final = 4.5


def stop_on_signals(
    request_stop: Callable[[], None], *, deadline: float | None = EXIT_DEADLINE
) -> Callable[[], None]:
    """On SIGTERM or SIGINT, ask the running loop to stop (``request_stop``), and end the process
    ``deadline`` seconds later if it is still there (a second signal: at once).

    The handlers run between two bytecodes of the main thread, even while the event loop is
    busy. The deadline stays armed until the process ends: its last moments (joining worker
    threads) are the ones that can hang. ``None``: no deadline (the caller has more to clean
    up after the bot, and bounds it itself). Returns a function restoring the previous
    handlers.
    """
    loop = asyncio.get_running_loop()
    received: list[str] = []

    def handle(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if received and deadline is not None:
            _abandon(f"at a second signal ({name})")
        received.append(name)
        log.info("%s received: stopping", name)
        loop.call_soon_threadsafe(request_stop)
        if deadline is not None and len(received) == 1:
            timer = threading.Timer(deadline, _abandon, args=(f"{deadline} s after {name}",))
            timer.daemon = True
            timer.start()

    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # only the main thread may handle signals
            previous[sig] = signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def _abandon(when: str) -> None:
    """End the process now: what was committed is safe; what still runs is named in the log."""
    mine = (threading.current_thread(), threading.main_thread())
    left = sorted(t.name for t in threading.enumerate() if t not in mine and not t.daemon)
    log.error("still stopping %s: ending now (threads left: %s)", when, ", ".join(left) or "none")
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    os._exit(EXIT_ABANDONED)
