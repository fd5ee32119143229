"""The bot's own housekeeping: the events-and-effects ledger is pruned every day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.app import LEDGER_DAYS, PRUNE_JOB
from bot.testing import Harness
from storage.ledger import Effect, HandledEvent


async def _times(h: Harness) -> tuple[list[datetime], list[datetime]]:
    """When each settled event was handled, and each effect performed (UTC)."""

    def utc(when: datetime) -> datetime:
        return when if when.tzinfo else when.replace(tzinfo=UTC)

    async with h.db.session() as session:
        events = [utc(e.handled_at) for e in (await session.exec(select(HandledEvent))).all()]
        effects = [utc(e.created_at) for e in (await session.exec(select(Effect))).all()]
    return events, effects


async def test_the_ledger_forgets_what_no_replay_reaches_and_keeps_the_rest() -> None:
    async with Harness("discord", hosts=["hana"]) as h:
        assert PRUNE_JOB in h.scheduler.jobs
        first = h.clock.now()
        await h.say("ana", "bonjour")
        await h.command("hana", "/prompt add Que vous apporte le travail en réseau ?")
        events, effects = await _times(h)
        assert any(t <= first for t in events) and any(t <= first for t in effects)

        await h.advance(f"{LEDGER_DAYS - 1}d")
        recent = h.clock.now()
        await h.say("ana", "toujours là")
        events, _ = await _times(h)
        assert any(t <= first for t in events), "pruned before its time"

        await h.advance("2d")
        events, effects = await _times(h)
        assert not any(t <= first + timedelta(hours=1) for t in events + effects)
        assert any(recent <= t <= recent + timedelta(hours=1) for t in events)
