"""Supervised background tasks: restarted with capped backoff, each failure said, clean stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.supervisor import Supervisor, TaskStatus
from bot.testing import DEFAULT_START


class Waits:
    """A sleep that does not wait: it records each delay and lets the task go on at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def failing(
    times: int, error: Callable[[int], Exception], then: asyncio.Event
) -> Callable[[], Awaitable[None]]:
    """A task that fails ``times`` times, then runs until cancelled (``then`` set)."""
    calls = 0

    async def run() -> None:
        nonlocal calls
        calls += 1
        if calls <= times:
            raise error(calls)
        then.set()
        await asyncio.Event().wait()

    return run


async def test_failures_restart_with_doubling_capped_delays_and_say_why_each_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(DEFAULT_START)
    waits = Waits()
    supervisor = Supervisor(clock, initial=1.0, cap=8.0, sleep=waits)
    up = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="bot.supervisor"):
        supervisor.start("follower", failing(6, lambda n: OSError(f"disk gone {n}"), up))
        await asyncio.wait_for(up.wait(), 5)

    assert waits.delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    failures = [r for r in caplog.records if "follower failed" in r.getMessage()]
    assert len(failures) == 6
    assert "OSError: disk gone 1" in failures[0].getMessage()
    assert "OSError: disk gone 6" in failures[-1].getMessage()
    # The traceback once, for the first failure of the kind; one line each after.
    assert [r.exc_info is not None for r in failures] == [True] + [False] * 5
    state = supervisor.state("follower")
    assert state is not None
    assert state.status is TaskStatus.RUNNING
    assert state.restarts == 6
    assert state.last_error == "OSError: disk gone 6"
    assert state.since == DEFAULT_START
    await supervisor.stop()


async def test_a_new_kind_of_error_is_traced_again() -> None:
    waits = Waits()
    supervisor = Supervisor(FakeClock(DEFAULT_START), sleep=waits)
    up = asyncio.Event()
    errors = [OSError("a"), OSError("b"), ValueError("c")]
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logging.getLogger("bot.supervisor").addHandler(handler)
    try:
        supervisor.start("task", failing(3, lambda n: errors[n - 1], up))
        await asyncio.wait_for(up.wait(), 5)
    finally:
        logging.getLogger("bot.supervisor").removeHandler(handler)
        await supervisor.stop()
    assert [r.exc_info is not None for r in records if "failed" in r.getMessage()] == [
        True,
        False,
        True,
    ]


async def test_a_run_that_lasted_resets_the_backoff() -> None:
    # (start, failure) of runs 1, 2 and 3, then run 4's start.
    elapsed = iter([0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 100.0])
    waits = Waits()
    supervisor = Supervisor(
        FakeClock(DEFAULT_START),
        initial=1.0,
        cap=30.0,
        sleep=waits,
        monotonic=lambda: next(elapsed),
    )
    up = asyncio.Event()
    # Runs 1 and 2 fail at once; run 3 fails after 100 s of good work; run 4 stays up.
    supervisor.start("task", failing(3, lambda n: RuntimeError(str(n)), up))
    await asyncio.wait_for(up.wait(), 5)
    await supervisor.stop()
    assert waits.delays == [1.0, 2.0, 1.0]


async def test_states_say_restarting_while_waiting_and_stopped_after_a_cancel() -> None:
    clock = FakeClock(DEFAULT_START)
    release = asyncio.Event()
    waiting = asyncio.Event()

    async def held(delay: float) -> None:
        waiting.set()
        await release.wait()

    supervisor = Supervisor(clock, initial=5.0, cap=5.0, sleep=held)

    async def broken() -> None:
        raise ConnectionRefusedError("database restarting")

    supervisor.start("inbox-follower", broken)
    await asyncio.wait_for(waiting.wait(), 5)
    (state,) = supervisor.states()
    assert state.name == "inbox-follower"
    assert state.status is TaskStatus.RESTARTING
    assert state.retry_in == 5.0
    assert state.restarts == 1
    assert state.last_error == "ConnectionRefusedError: database restarting"
    assert state.failed_at == DEFAULT_START

    clock.advance(timedelta(minutes=3))
    await supervisor.stop()
    (state,) = supervisor.states()
    assert state.status is TaskStatus.STOPPED
    assert state.since == DEFAULT_START + timedelta(minutes=3)
    assert state.last_error == "ConnectionRefusedError: database restarting"


async def test_a_task_that_returns_is_finished_not_restarted() -> None:
    calls = 0

    async def once() -> None:
        nonlocal calls
        calls += 1

    supervisor = Supervisor(FakeClock(DEFAULT_START), sleep=Waits())
    task = supervisor.start("reader", once)
    await asyncio.wait_for(task, 5)
    assert calls == 1
    state = supervisor.state("reader")
    assert state is not None and state.status is TaskStatus.FINISHED and state.restarts == 0


async def test_one_name_runs_once_at_a_time() -> None:
    supervisor = Supervisor(FakeClock(DEFAULT_START))
    supervisor.start("task", asyncio.Event().wait)
    with pytest.raises(ValueError, match="already running"):
        supervisor.start("task", asyncio.Event().wait)
    await supervisor.stop("task")
    supervisor.start("task", asyncio.Event().wait)  # stopped: may start again
    await supervisor.stop()


async def test_stop_from_inside_the_task_ends_it_without_a_restart() -> None:
    supervisor = Supervisor(FakeClock(DEFAULT_START), sleep=Waits())

    async def quits() -> None:
        await supervisor.stop("self")
        raise RuntimeError("after the stop")

    task = supervisor.start("self", quits)
    await asyncio.wait_for(task, 5)
    state = supervisor.state("self")
    assert state is not None and state.status is TaskStatus.STOPPED and state.restarts == 0
