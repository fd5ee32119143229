"""A member is asked for a profession exactly once, whatever moment the process dies at.

A crash is a ``BaseException`` thrown where the process would die; the same event is then
delivered again to a restarted bot over the same database, as an adapter whose read position
did not move past it does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.testing import Harness
from bot.types import MessagePosted, MessageRef, ThreadRef, UserRef
from storage import rounds as store
from storage import state

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class Crash(BaseException):
    """The process dies here."""


async def open_round(h: Harness) -> ThreadRef:
    await h.say("ana", "bonjour")  # the channel becomes a circle with its schedule
    await h.advance("2h")  # the week's question is posted with its thread
    return list(h.platform.threads.values())[-1]


def answer(h: Harness, thread: ThreadRef) -> MessagePosted:
    ref = MessageRef(h.platform.channel, "answer-1", thread)
    eve = UserRef(h.platform.name, "eve", "eve")
    return MessagePosted(ref, eve, "Sans métier déclaré.", h.clock.now())


def asks(h: Harness) -> int:
    return len([s for s in h.private_to("eve") if "profession set" in s.text])


async def test_crash_before_the_question_is_sent_asks_after_restart(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Harness(profile, start=START) as h:
        event = answer(h, await open_round(h))
        send_direct = h.platform.send_direct

        async def dies(*args: Any, **kwargs: Any) -> Any:
            raise Crash

        monkeypatch.setattr(h.platform, "send_direct", dies)
        with pytest.raises(Crash):
            await h.platform.deliver(event)
        monkeypatch.setattr(h.platform, "send_direct", send_direct)
        assert len(await store.answers(h.db, 1)) == 1  # stored before the crash
        assert asks(h) == 0
        await h.restart()
        await h.platform.deliver(event)
        assert asks(h) == 1
        assert len(await store.answers(h.db, 1)) == 1


async def test_crash_between_the_question_and_its_record_asks_once(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Harness(profile, start=START) as h:
        event = answer(h, await open_round(h))
        set_state = state.set_state

        async def dies_on_asked(db: Any, adapter: str, key: str, *args: Any, **kw: Any) -> Any:
            if key.startswith("asked-profession:"):
                raise Crash
            return await set_state(db, adapter, key, *args, **kw)

        monkeypatch.setattr(state, "set_state", dies_on_asked)
        with pytest.raises(Crash):
            await h.platform.deliver(event)
        monkeypatch.setattr(state, "set_state", set_state)
        assert asks(h) == 1
        await h.restart()
        await h.platform.deliver(event)
        assert asks(h) == 1  # not twice
        await h.say("eve", "Une autre réponse.", thread=event.message.thread)
        assert asks(h) == 1  # and recorded now: never again
