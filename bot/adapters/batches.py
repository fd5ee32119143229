"""A backlog handled in batches, as the durable inbox catches up (:mod:`bot.adapters.inbox`).

After a downtime an adapter may hold hundreds of member events at once (a Matrix sync that
covers the time away, a Discord thread's history). One at a time, each waits for the
previous one's database round trips; side by side, their writes share transactions (see
:mod:`storage.writer`). :func:`run_batch` handles a batch's events side by side: one
sender's in order, one after the other, and an event that may depend on others (a command,
a reply to or a reaction on an event of the batch) alone once every event before it is
settled. Platform effects take turns (:func:`~bot.effects.one_at_a_time`), so a crash still
repeats at most one. When an event cannot be settled, the events still waiting are not
started, those in flight finish, and the caller learns how many leading events were
settled: its read position may move past those only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

from bot.effects import one_at_a_time

T = TypeVar("T")

#: A backlog of at least this many events is handled in batches; fewer (live traffic) one
#: at a time.
BATCH_FROM: Final = 64
#: At most this many events in one batch.
MAX_BATCH: Final = 500
#: Events of a batch in flight at once, as a gateway hands a busy channel's events to tasks.
CONCURRENCY: Final = 32


def plan(
    items: Sequence[T],
    *,
    lane: Callable[[T], str],
    ident: Callable[[T], str | None],
    depends: Callable[[T, set[str]], bool],
) -> list[list[list[int]]]:
    """The batch cut where order matters: groups, one after the other, of lanes (item
    indexes in order), side by side; an item that ``depends`` on the ids before it in its
    group is a group alone."""
    groups: list[dict[str, list[int]]] = [{}]
    ids: set[str] = set()
    for index, item in enumerate(items):
        if depends(item, ids):
            groups.append({"": [index]})
            groups.append({})
            ids = set()
            continue
        groups[-1].setdefault(lane(item), []).append(index)
        known = ident(item)
        if known is not None:
            ids.add(known)
    return [list(group.values()) for group in groups if group]


async def run_batch(
    items: Sequence[T],
    handle: Callable[[T], Awaitable[None]],
    *,
    lane: Callable[[T], str],
    ident: Callable[[T], str | None],
    depends: Callable[[T, set[str]], bool],
    concurrency: int = CONCURRENCY,
) -> tuple[int, BaseException | None]:
    """Handle ``items`` side by side (see :func:`plan`).

    Returns:
        How many leading items were settled, and the first failure of ``handle`` (``None``
        when every item was settled). After a failure no item is started; those in flight
        finish first.
    """
    settled = [False] * len(items)
    gate = asyncio.Semaphore(concurrency)
    failures: list[BaseException] = []

    async def run_lane(indexes: list[int]) -> None:
        for index in indexes:
            if failures:
                return
            async with gate:
                try:
                    await handle(items[index])
                except Exception as error:
                    failures.append(error)
                    return
            settled[index] = True

    with one_at_a_time():
        for group in plan(items, lane=lane, ident=ident, depends=depends):
            tasks = [asyncio.ensure_future(run_lane(indexes)) for indexes in group]
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:  # cancelled (a stop): the lanes stop too
                    task.cancel()
            if failures:
                break
    done = settled.index(False) if not all(settled) else len(items)
    return done, failures[0] if failures else None
