"""``cercle`` with a ``kill -9`` armed at a named crash point (for tests/test_faults.py).

Usage: python -P faults_launcher.py POINT HIT run --config FILE ...

(``-P``: this directory holds a ``bot`` folder of tests, which must not hide the package.)

The process sends itself SIGKILL at the HIT-th pass through POINT (``none`` arms nothing),
then the rest of the arguments go to ``cercle``'s own ``main``. Points are patched at the
site they name, nothing in production code knows of them:

``after-claim``
    the scheduler claimed a round's opening (``storage.jobs.claim_run`` returned True), before
    running it;
``after-handling``
    the inbox handled a line (the event is settled), before storing its read position;
``before-settle``
    the router handled an event completely, before recording it as settled;
``after-effect:METHOD``
    the memory platform performed METHOD (``send_direct``, ``send``…; the outbox has it),
    before the effects ledger recorded it;
``after-write:MODULE.FUNCTION``
    a cog's write ``storage.MODULE.FUNCTION`` (``courtesy.add_strike``, ``courtesy.log``,
    ``rounds.add_prompt``…) committed, before the effects ledger recorded it.

``FAULTS_LEASE_SECONDS`` in the environment shortens the scheduler's lease on a claim.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import storage.jobs
from bot import cli
from bot.adapters.inbox import InboxPlatform
from bot.adapters.memory import MemoryPlatform
from bot.effects import Effects

AsyncFn = Callable[..., Awaitable[Any]]


#: The id of the inbox line being handled now, told when the process dies (for the report).
_handling: str | None = None


def _die() -> None:
    sys.stderr.write(f"fault: kill -9 while handling {_handling or 'no line'}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _follow_lines() -> None:
    """Keep ``_handling`` up to date."""
    post = InboxPlatform._post

    @functools.wraps(post)
    async def wrapper(self: InboxPlatform, entry: dict[str, Any], offset: int) -> None:
        global _handling
        _handling = str(entry["id"])
        try:
            await post(self, entry, offset)
        finally:
            _handling = None

    InboxPlatform._post = wrapper  # type: ignore[method-assign]


def _after(original: AsyncFn, hit: int, counts: Callable[[Any], bool]) -> AsyncFn:
    """``original``, dying right after its ``hit``-th call whose result ``counts``."""
    passes = 0

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal passes
        result = await original(*args, **kwargs)
        if counts((args, kwargs, result)):
            passes += 1
            if passes == hit:
                _die()
        return result

    return wrapper


def _before(original: AsyncFn, hit: int) -> AsyncFn:
    """``original``, dying right before its ``hit``-th call."""
    passes = 0

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal passes
        passes += 1
        if passes == hit:
            _die()
        return await original(*args, **kwargs)

    return wrapper


def _opening_claimed(call: Any) -> bool:
    args, kwargs, claimed = call
    job_key = args[1] if len(args) > 1 else kwargs["job_key"]
    return bool(claimed) and str(job_key).startswith("rounds:") and job_key.endswith(":open")


def arm(point: str, hit: int) -> None:
    """Patch the site of ``point`` to die at its ``hit``-th pass."""
    always: Callable[[Any], bool] = lambda _call: True  # noqa: E731
    if point == "none":
        return
    if point == "after-claim":
        storage.jobs.claim_run = _after(storage.jobs.claim_run, hit, _opening_claimed)  # type: ignore[assignment]
    elif point == "after-handling":
        InboxPlatform._handle = _after(InboxPlatform._handle, hit, always)  # type: ignore[method-assign]
    elif point == "before-settle":
        Effects.settle = _before(Effects.settle, hit)  # type: ignore[method-assign]
    elif point.startswith("after-effect:"):
        method = point.removeprefix("after-effect:")
        setattr(MemoryPlatform, method, _after(getattr(MemoryPlatform, method), hit, always))
    elif point.startswith("after-write:"):
        module, name = point.removeprefix("after-write:").split(".")
        owner = importlib.import_module(f"storage.{module}")
        setattr(owner, name, _after(getattr(owner, name), hit, always))
    else:
        raise SystemExit(f"unknown crash point {point!r}")


if __name__ == "__main__":
    if os.environ.get("FAULTS_LEASE_SECONDS"):
        # Read by the scheduler when it is built: a dead process's claim expires soon.
        storage.jobs.DEFAULT_LEASE = timedelta(seconds=float(os.environ["FAULTS_LEASE_SECONDS"]))  # type: ignore[misc]
    _follow_lines()
    arm(sys.argv[1], int(sys.argv[2]))
    raise SystemExit(cli.main(sys.argv[3:]))
