"""Exactly once: replays dropped, finished steps and performed side effects never repeated.

A "crash" here is a :class:`Crash` (a ``BaseException``, like the ``SystemExit`` of a dying
process) thrown from inside a handler: nothing after it runs, nothing is settled, and the
event is delivered again to a restarted bot over the same database, as an adapter whose read
position did not move would do.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import text

from bot.cog import Cog, CommandContext, EventContext, command
from bot.effects import one_at_a_time
from bot.platform import EventNotHandled
from bot.testing import Harness
from bot.types import MessagePosted, MessageRef, UserRef


class Crash(BaseException):
    """The process dies here."""


class Flaky(Cog):
    """Sends, then fails as told; counts how often each part ran."""

    name = "flaky"
    #: What to do at the next runs, consumed one by one: "fail", "crash" or "ok".
    plan: ClassVar[list[str]] = []
    runs: ClassVar[dict[str, int]] = {}

    async def on_message(self, ctx: EventContext) -> None:
        assert isinstance(ctx.event, MessagePosted)
        Flaky.runs["listener"] = Flaky.runs.get("listener", 0) + 1
        await ctx.send(f"first reply to {ctx.event.text}")
        outcome = Flaky.plan.pop(0) if Flaky.plan else "ok"
        if outcome == "crash":
            raise Crash
        if outcome == "fail":
            raise RuntimeError("flaky step")
        await ctx.send(f"second reply to {ctx.event.text}")

    @command("note", description="Store a note and confirm.")
    async def note(self, ctx: CommandContext) -> None:
        Flaky.runs["command"] = Flaky.runs.get("command", 0) + 1
        await ctx.reply("noted")
        outcome = Flaky.plan.pop(0) if Flaky.plan else "ok"
        if outcome == "crash":
            raise Crash

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


class Steady(Cog):
    """A second listener that always succeeds: it must hear each message once."""

    name = "steady"
    heard: ClassVar[list[str]] = []

    async def on_message(self, ctx: EventContext) -> None:
        assert isinstance(ctx.event, MessagePosted)
        Steady.heard.append(ctx.event.text)
        await ctx.send(f"steady heard {ctx.event.text}")

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


@pytest.fixture(autouse=True)
def _reset() -> None:
    Flaky.plan = []
    Flaky.runs = {}
    Steady.heard = []


def texts(h: Harness) -> list[str]:
    return [s.text for s in h.sent]


def message(h: Harness, ident: str, text_: str) -> MessagePosted:
    ref = MessageRef(h.platform.channel, ident)
    return MessagePosted(ref, UserRef(h.platform.name, "ana", "Ana"), text_, h.clock.now())


async def test_a_replayed_event_is_dropped_after_a_restart(profile: str) -> None:
    async with Harness(profile, cogs=[Flaky, Steady]) as h:
        event = message(h, "m-1", "bonjour")
        await h.platform.deliver(event)
        await h.restart()
        await h.platform.deliver(event)  # e.g. a sync batch read again after kill -9
        assert texts(h).count("first reply to bonjour") == 1
        assert texts(h).count("second reply to bonjour") == 1
        assert Steady.heard == ["bonjour"]


async def test_a_failed_step_is_retried_without_repeating_what_succeeded() -> None:
    async with Harness(cogs=[Flaky, Steady]) as h:
        Flaky.plan = ["fail", "ok"]
        await h.platform.deliver(message(h, "m-1", "salut"))
        assert Flaky.runs["listener"] == 2  # retried once
        assert texts(h).count("first reply to salut") == 1  # its first send not repeated
        assert texts(h).count("second reply to salut") == 1
        assert Steady.heard == ["salut"]  # the listener that succeeded ran once
        assert not [t for t in texts(h) if "incident" in t]


async def test_a_crash_mid_step_repeats_no_side_effect_on_replay() -> None:
    async with Harness(cogs=[Flaky, Steady]) as h:
        Flaky.plan = ["crash"]
        event = message(h, "m-1", "hello")
        with pytest.raises(Crash):
            await h.platform.deliver(event)
        assert texts(h) == ["first reply to hello"]
        await h.restart()
        await h.platform.deliver(event)
        assert texts(h).count("first reply to hello") == 1
        assert texts(h).count("second reply to hello") == 1
        assert Steady.heard == ["hello"]


async def test_a_command_handled_before_a_crash_replies_once_on_replay() -> None:
    async with Harness("matrix", cogs=[Flaky]) as h:
        Flaky.plan = ["crash"]
        event = message(h, "m-1", "!note")
        with pytest.raises(Crash):
            await h.platform.deliver(event)
        assert texts(h).count("noted") == 1
        await h.restart()
        await h.platform.deliver(event)
        assert texts(h).count("noted") == 1
        assert Flaky.runs["command"] == 2  # run again (it had not finished), reply not repeated


async def test_what_keeps_failing_is_a_dead_letter_told_once(profile: str) -> None:
    async with Harness(profile, cogs=[Flaky, Steady]) as h:
        Flaky.plan = ["fail", "fail", "fail"]
        event = message(h, "m-1", "oops")
        await h.platform.deliver(event)
        assert Flaky.runs["listener"] == 3
        assert texts(h).count("first reply to oops") == 1
        told = [s for s in h.sent if "incident" in s.text]
        assert len(told) == 1 and told[0].to is not None and told[0].to.id == "ana"
        assert Steady.heard == ["oops"]
        async with h.db.engine.connect() as conn:
            row = (
                await conn.execute(text("SELECT status, attempts, error FROM handled_events"))
            ).one()
        assert row.status == "dead" and row.attempts == 3 and "flaky step" in row.error
        await h.restart()
        await h.platform.deliver(event)  # a dead letter is not handled again on replay
        assert Flaky.runs["listener"] == 3


async def test_an_unreachable_database_keeps_the_event_for_later(tmp_path: Any) -> None:
    async with Harness(cogs=[Flaky, Steady], db_path=tmp_path / "cercle.db") as h:
        await h.db.dispose()
        (tmp_path / "cercle.db").unlink()
        (tmp_path / "cercle.db").mkdir()  # the database file is gone: every query fails
        with pytest.raises(EventNotHandled):
            await h.platform.deliver(message(h, "m-1", "later"))
        assert not [t for t in texts(h) if "incident" in t]


async def test_a_write_and_its_record_commit_together_or_not_at_all() -> None:
    """A crash after a cog's write but before its step ends leaves no row: the replay writes one."""
    from bot.effects import event_key
    from storage import courtesy as store

    async with Harness("discord") as h:
        effects = h.bot.effects
        await h.say("ana", "bonjour")  # the circle and the member exist
        strike = store.Strike(
            circle_id=1, member_id=1, weight=1.0, rule="r", created_at=h.clock.now()
        )

        async def write() -> int:
            stored = await store.add_strike(h.db, store.Strike(**strike.model_dump()))
            assert stored.id is not None
            return stored.id

        async def dies_after_the_write() -> int:
            await write()
            raise Crash

        key = event_key("test", "strike")
        with pytest.raises(Crash):
            async with effects.scope(key):
                await effects.stored("strike", dies_after_the_write, encode=str, decode=int)
        assert await store.active_strikes(h.db, 1, 1) == []  # rolled back with its record

        async with effects.scope(key):
            first = await effects.stored("strike", write, encode=str, decode=int)
        async with effects.scope(key):  # replayed once more: recorded, not written again
            again = await effects.stored("strike", write, encode=str, decode=int)
        assert first == again
        assert len(await store.active_strikes(h.db, 1, 1)) == 1


async def test_a_burst_of_replays_is_dropped_each_once_in_few_lookups() -> None:
    async with Harness(cogs=[Steady]) as h:
        events = [message(h, f"m-{i}", f"mot {i}") for i in range(60)]
        await asyncio.gather(*(h.platform.deliver(e) for e in events))
        await h.restart()
        lookups: list[str] = []

        def record(*args: Any) -> None:
            if "FROM handled_events" in str(args[2]):
                lookups.append(str(args[2]))

        sqlalchemy_event.listen(h.db.engine.sync_engine, "before_cursor_execute", record)
        try:
            # Delivered again side by side (a sync batch read again after kill -9).
            await asyncio.gather(*(h.platform.deliver(e) for e in events))
        finally:
            sqlalchemy_event.remove(h.db.engine.sync_engine, "before_cursor_execute", record)
        assert sorted(Steady.heard) == sorted(f"mot {i}" for i in range(60))
        assert len(texts(h)) == 60
        assert 1 <= len(lookups) <= 3  # looked up together, not one query per event


async def test_effects_of_events_handled_side_by_side_take_turns_when_asked() -> None:
    """Inside one_at_a_time, each effect is recorded before the next one starts: a crash
    at any moment leaves at most one performed and not recorded."""
    async with Harness(cogs=[Steady]) as h:
        original = h.platform.send
        recorded_before: list[int] = []

        async def send(*args: Any, **kwargs: Any) -> MessageRef:
            async with h.db.engine.connect() as conn:
                count = (await conn.execute(text("SELECT count(*) FROM effects"))).scalar()
            recorded_before.append(int(count or 0))
            await asyncio.sleep(0.01)  # a platform's round trip: others run meanwhile
            return await original(*args, **kwargs)

        h.platform.send = send  # type: ignore[method-assign]
        with one_at_a_time():
            await asyncio.gather(
                *(h.platform.deliver(message(h, f"m-{i}", f"mot {i}")) for i in range(12))
            )
        assert recorded_before == list(range(12))
        assert len(texts(h)) == 12
