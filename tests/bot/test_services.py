"""The kernel's services: the directory's account cache stays bounded, members stay themselves,
a circle met side by side is looked up once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text

from bot.testing import Harness
from bot.types import CircleChanged, UserRef
from cogs.core import CoreCog


async def test_past_the_account_cache_a_returning_member_is_still_the_same_member(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.services.ACCOUNTS_CACHED", 25)
    async with Harness("discord", cogs=[CoreCog]) as h:
        directory = h.bot.directory
        first = {}
        for i in range(100):
            first[i] = await directory.member_for(h.platform.user(f"membre{i}"))
        assert len(directory._accounts) == 25  # memory stays flat past the cache
        again = {i: await directory.member_for(h.platform.user(f"membre{i}")) for i in range(100)}
        assert again == first  # the forgotten ones were looked up, not created again
        async with h.db.engine.connect() as conn:
            members = (await conn.execute(text("SELECT count(*) FROM members"))).scalar()
        assert members == 100
        # The most recently seen stay cached: membre99 was the last looked up.
        assert ("discord", "membre99") in directory._accounts


async def test_members_seen_side_by_side_after_a_restart_are_found_together() -> None:
    async with Harness("discord", cogs=[CoreCog]) as h:
        users = [h.platform.user(f"membre{i}") for i in range(60)]
        ids = await asyncio.gather(*(h.bot.directory.member_for(u) for u in users))
        await h.restart()  # caches empty, as after a downtime
        queries: list[str] = []

        def record(*args: Any) -> None:
            if "FROM accounts" in str(args[2]):
                queries.append(str(args[2]))

        event.listen(h.db.engine.sync_engine, "before_cursor_execute", record)
        try:
            renamed = UserRef("discord", "membre3", "Membre Trois")
            again = await asyncio.gather(
                *(h.bot.directory.member_for(u) for u in [*users[:3], renamed, *users[4:]]),
                h.bot.directory.member_for(h.platform.user("nouvelle")),
            )
        finally:
            event.remove(h.db.engine.sync_engine, "before_cursor_execute", record)
        assert again[:60] == ids  # the same members, the renamed one too
        assert again[60] not in ids  # a newcomer gets a member of their own
        # One query for the 61 found together, then the newcomer's and the rename's own.
        assert len(queries) <= 6
        async with h.db.engine.connect() as conn:
            name = (
                await conn.execute(
                    text("SELECT display_name FROM accounts WHERE platform_user_id = 'membre3'")
                )
            ).scalar()
            count = (await conn.execute(text("SELECT count(*) FROM members"))).scalar()
        assert name == "Membre Trois" and count == 61


async def test_a_circle_met_side_by_side_after_a_restart_is_found_and_announced_once() -> None:
    async with Harness("discord", cogs=[CoreCog]) as h:
        first = await h.bot.directory.circle_for(h.platform.channel)
        await h.restart()  # caches empty, as after a downtime
        announced: list[CircleChanged] = []
        emit = h.bot.signals.emit

        async def record(signal: object) -> None:
            if isinstance(signal, CircleChanged):
                announced.append(signal)
            await emit(signal)

        h.bot.signals.emit = record  # type: ignore[method-assign]
        queries: list[str] = []

        def count(*args: Any) -> None:
            if "FROM circles" in str(args[2]):
                queries.append(str(args[2]))

        event.listen(h.db.engine.sync_engine, "before_cursor_execute", count)
        try:
            # A backlog's first events, each asking at once for the circle of their channel.
            found = await asyncio.gather(
                *(h.bot.directory.circle_for(h.platform.channel) for _ in range(32))
            )
        finally:
            event.remove(h.db.engine.sync_engine, "before_cursor_execute", count)
        assert first is not None and {c.id for c in found if c is not None} == {first.id}
        assert len(announced) == 1 and announced[0].created  # its cogs set it up once
        assert len(queries) == 1
