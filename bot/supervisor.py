"""Background tasks that come back: a failing loop is restarted with backoff, and says why.

Example::

    supervisor = Supervisor(clock)
    supervisor.start("inbox-follower", follow)  # follow: () -> Awaitable[None]
    supervisor.states()                         # what /circle health shows
    await supervisor.stop()

A task whose coroutine returns has finished (an end of input) and is not started again. One
that raises is logged, with the traceback the first time that kind of error is seen in a row
and one line after, then started again after a delay that doubles up to a cap. A run that
lasted at least the cap was healthy: the next failure starts over from the shortest delay.
Cancelling the supervisor's task (or :meth:`Supervisor.stop`) stops it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.clock import Clock

log = logging.getLogger(__name__)

Factory = Callable[[], Awaitable[None]]
"""Makes a fresh run of a background task (called again for each restart)."""
Sleep = Callable[[float], Awaitable[None]]


class TaskStatus(enum.Enum):
    """Where a supervised task is."""

    RUNNING = "running"
    #: It failed and waits for its next start.
    RESTARTING = "restarting"
    #: It returned by itself (for example at the end of its input).
    FINISHED = "finished"
    #: It was stopped (cancelled).
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class TaskState:
    """A supervised task as health reports show it."""

    name: str
    status: TaskStatus
    #: When it entered ``status``.
    since: datetime
    #: How many times it was started again after a failure.
    restarts: int = 0
    #: The latest failure, as ``Type: message`` (kept after a recovery).
    last_error: str | None = None
    #: When it last failed.
    failed_at: datetime | None = None
    #: While restarting: the seconds it waits before its next start.
    retry_in: float | None = None


class Supervisor:
    """Runs named background tasks and restarts the ones that fail, with backoff.

    Args:
        clock: Tells the time of each change of state (for health reports).
        initial: The delay before the first restart, in seconds.
        cap: The longest delay; a run lasting this long resets the backoff.
        sleep: Waits between runs (a test gives one that does not wait).
        monotonic: Measures how long a run lasted.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        initial: float = 1.0,
        cap: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if initial <= 0 or cap < initial:
            raise ValueError("the backoff needs 0 < initial <= cap")
        self._clock = clock
        self._initial = initial
        self._cap = cap
        self._sleep = sleep
        self._monotonic = monotonic
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._states: dict[str, TaskState] = {}
        self._ending: set[str] = set()

    def start(self, name: str, factory: Factory) -> asyncio.Task[None]:
        """Run ``factory()`` in the background under ``name``, again each time it fails.

        Raises:
            ValueError: A task of that name is still running.
        """
        running = self._tasks.get(name)
        if running is not None and not running.done():
            raise ValueError(f"a task named {name!r} is already running")
        self._ending.discard(name)
        self._states[name] = TaskState(name, TaskStatus.RUNNING, self._clock.now())
        task = asyncio.create_task(self._run(name, factory), name=name)
        self._tasks[name] = task
        return task

    def states(self) -> tuple[TaskState, ...]:
        """Every task ever started, in the order they were first started."""
        return tuple(self._states.values())

    def state(self, name: str) -> TaskState | None:
        """The task called ``name``, if it was ever started."""
        return self._states.get(name)

    async def stop(self, name: str | None = None) -> None:
        """Stop the task called ``name`` (every task if ``None``) and wait until it ended.

        Called from inside a supervised task, that task is not cancelled: it ends (without a
        restart) when its current run returns or fails.
        """
        names = [name] if name is not None else list(self._tasks)
        current = asyncio.current_task()
        waiting: list[asyncio.Task[None]] = []
        for each in names:
            task = self._tasks.get(each)
            if task is None or task.done():
                continue
            self._ending.add(each)
            if task is current:
                continue
            task.cancel()
            waiting.append(task)
        for task in waiting:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, name: str, factory: Factory) -> None:
        failures = 0  # in a row
        traced: type[BaseException] | None = None  # the error whose traceback was logged
        try:
            while True:
                began = self._monotonic()
                try:
                    await factory()
                except Exception as error:
                    if self._monotonic() - began >= self._cap:
                        failures, traced = 0, None  # it ran well for a while: start over
                    delay = min(self._initial * 2**failures, self._cap)
                    failures += 1
                    if name in self._ending:
                        self._set(name, TaskStatus.STOPPED, error=error)
                        log.warning("%s failed while stopping: %s", name, _why(error))
                        return
                    self._set(name, TaskStatus.RESTARTING, error=error, retry_in=delay)
                    trace = error if type(error) is not traced else None
                    traced = type(error)
                    log.log(
                        logging.ERROR if trace is not None else logging.WARNING,
                        "%s failed (%s); restarting in %.1f s (restart %d)",
                        name,
                        _why(error),
                        delay,
                        self._states[name].restarts,
                        exc_info=trace,
                    )
                    await self._sleep(delay)
                    self._set(name, TaskStatus.RUNNING)
                    continue
                self._set(name, TaskStatus.STOPPED if name in self._ending else TaskStatus.FINISHED)
                log.info("%s finished", name)
                return
        except asyncio.CancelledError:
            self._set(name, TaskStatus.STOPPED)
            raise

    def _set(
        self,
        name: str,
        status: TaskStatus,
        *,
        error: BaseException | None = None,
        retry_in: float | None = None,
    ) -> None:
        now = self._clock.now()
        state = replace(self._states[name], status=status, since=now, retry_in=retry_in)
        if error is not None:
            restarts = state.restarts + (status is TaskStatus.RESTARTING)
            state = replace(state, restarts=restarts, last_error=_why(error), failed_at=now)
        self._states[name] = state


def _why(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
