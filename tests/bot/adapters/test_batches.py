"""A backlog handled in batches: a sender's events in order, a dependent event alone,
a failure stopping the batch with the settled prefix known."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from bot.adapters.batches import plan, run_batch


@dataclass(frozen=True)
class Item:
    id: str
    sender: str
    text: str = ""
    about: str = ""


def _depends(item: Item, ids: set[str]) -> bool:
    return item.text.startswith("!") or item.about in ids


def _plan(items: list[Item]) -> list[list[list[str]]]:
    groups = plan(items, lane=lambda i: i.sender, ident=lambda i: i.id, depends=_depends)
    return [[[items[n].id for n in lane] for lane in group] for group in groups]


def test_a_senders_events_share_a_lane_and_a_dependent_event_stands_alone() -> None:
    items = [
        Item("a1", "ana"),
        Item("b1", "ben"),
        Item("a2", "ana"),
        Item("c1", "hana", "!prompt now"),
        Item("b2", "ben"),
        Item("r1", "ana", about="b2"),  # a reply to an event of this group
        Item("r2", "ben", about="a1"),  # about an event of an earlier group: no wait
    ]
    assert _plan(items) == [
        [["a1", "a2"], ["b1"]],
        [["c1"]],
        [["b2"]],
        [["r1"]],
        [["r2"]],
    ]


async def test_events_run_side_by_side_each_sender_in_order() -> None:
    items = [Item(f"{s}{n}", s) for n in range(5) for s in ("ana", "ben", "eve")]
    items.insert(7, Item("cmd", "hana", "!prompt next"))
    seen: list[str] = []
    running = 0
    most = 0

    async def handle(item: Item) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        seen.append(item.id)
        running -= 1

    done, failure = await run_batch(
        items, handle, lane=lambda i: i.sender, ident=lambda i: i.id, depends=_depends
    )
    assert (done, failure) == (len(items), None)
    assert sorted(seen) == sorted(i.id for i in items)
    for sender in ("ana", "ben", "eve"):
        assert [i for i in seen if i.startswith(sender)] == [f"{sender}{n}" for n in range(5)]
    # Everything before the command was handled before it, everything after it after.
    at = seen.index("cmd")
    assert set(seen[:at]) == {i.id for i in items[:7]}
    assert most == 3  # one event a sender at once


async def test_a_failure_stops_the_batch_and_says_how_far_it_was_settled() -> None:
    items = [Item(f"a{n}", "ana") for n in range(4)] + [Item(f"b{n}", "ben") for n in range(4)]
    handled: list[str] = []

    async def handle(item: Item) -> None:
        if item.id == "a2":
            raise RuntimeError("database away")
        await asyncio.sleep(0)
        handled.append(item.id)

    done, failure = await run_batch(
        items, handle, lane=lambda i: i.sender, ident=lambda i: i.id, depends=_depends
    )
    assert isinstance(failure, RuntimeError)
    assert done == 2  # a0, a1: the position may move past those only
    assert "a3" not in handled  # nothing of ana's after the failure


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_concurrency_bounds_the_events_in_flight(concurrency: int) -> None:
    items = [Item(f"{s}0", s) for s in "abcdef"]
    running = 0
    most = 0

    async def handle(item: Item) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        running -= 1

    await run_batch(
        items,
        handle,
        lane=lambda i: i.sender,
        ident=lambda i: i.id,
        depends=_depends,
        concurrency=concurrency,
    )
    assert most == concurrency
