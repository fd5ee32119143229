"""The kernel's services: the directory's account cache stays bounded, members stay themselves."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.testing import Harness
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
