"""The flood and repeat rules count messages by when they were posted, not when they were read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.adapters.memory import Posted
from bot.testing import Harness
from bot.types import MessagePosted, MessageRef
from cogs.core import CoreCog
from cogs.courtesy import CourtesyCog
from cogs.courtesy.activity import Activity, posted_at

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def replay(h: Harness, name: str, posts: Sequence[tuple[str, datetime]]) -> list[MessageRef]:
    """Deliver a backlog at once, as a platform does to a bot back from a downtime."""
    user = h.platform.user(name)
    refs = []
    for i, (text, at) in enumerate(posts):
        ref = MessageRef(h.platform.channel, f"backlog-{name}-{i}")
        h.platform.posted[ref.id] = Posted(ref, user, text)
        await h.platform.deliver(MessagePosted(ref, user, text, at))
        refs.append(ref)
    return refs


def dms(h: Harness, name: str) -> list[str]:
    return [s.text for s in h.private_to(name) if s.where == "direct"]


async def test_a_backlog_posted_a_minute_apart_is_not_a_flood(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, CourtesyCog], hosts=["hana"]) as h:
        await h.say("cy", "Bonjour à toutes et à tous")
        went_down = h.clock.now()
        await h.restart(downtime="25m")
        posts = [(f"point numéro {i}", went_down + timedelta(minutes=i + 1)) for i in range(20)]
        refs = await replay(h, "cy", posts)
        assert dms(h, "cy") == []
        assert not h.platform.is_muted("cy")
        assert not any(h.platform.posted[ref.id].deleted for ref in refs)


async def test_a_flood_posted_during_a_downtime_is_still_caught_on_replay(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, CourtesyCog], hosts=["hana"]) as h:
        await h.say("cy", "Bonjour à toutes et à tous")
        went_down = h.clock.now()
        await h.restart(downtime="25m")
        start = went_down + timedelta(minutes=3)
        posts = [(f"point numéro {i}", start + timedelta(seconds=2 * i)) for i in range(20)]
        await replay(h, "cy", posts)
        told = dms(h, "cy")
        assert told and told[0].startswith("Avertissement") and "trop de messages" in told[0]
        assert h.platform.is_muted("cy")


async def test_the_same_message_a_minute_apart_on_replay_is_a_repeat(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, CourtesyCog], hosts=["hana"]) as h:
        went_down = h.clock.now()
        await h.restart(downtime="1h")
        posts = [("Venez voir ma formation !", went_down + timedelta(minutes=i)) for i in range(3)]
        refs = await replay(h, "dan", posts)
        assert [h.platform.posted[r.id].deleted for r in refs] == [False, False, True]


async def test_the_same_message_an_hour_apart_on_replay_is_no_repeat(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, CourtesyCog], hosts=["hana"]) as h:
        went_down = h.clock.now()
        await h.restart(downtime="4h")
        posts = [("Qui vient jeudi ?", went_down + timedelta(hours=i)) for i in range(3)]
        refs = await replay(h, "dan", posts)
        assert not any(h.platform.posted[r.id].deleted for r in refs)
        assert dms(h, "dan") == []


def test_a_message_arriving_late_is_compared_with_those_posted_before_it() -> None:
    activity = Activity(timedelta(seconds=30), timedelta(minutes=10))
    for i in range(5):
        activity.record("cy", f"m{i}", T0 + timedelta(minutes=i))
    # Posted between the second and third, delivered last: alone in its 30 seconds.
    late = activity.record("cy", "late", T0 + timedelta(minutes=1, seconds=40))
    assert late.recent == 1
    # The next one in order still sees only what was posted in its own window.
    assert activity.record("cy", "m5", T0 + timedelta(minutes=4, seconds=10)).recent == 2


def test_the_clock_stands_in_only_for_a_missing_timestamp() -> None:
    now = T0 + timedelta(hours=2)
    assert posted_at(T0, now) == T0
    assert posted_at(None, now) == now
    assert posted_at(datetime(1970, 1, 1, tzinfo=UTC), now) == now
    assert posted_at(datetime(2026, 3, 2, 9, 0), now) == now


def test_idle_members_are_forgotten_and_busy_ones_kept() -> None:
    activity = Activity(timedelta(seconds=30), timedelta(minutes=10))
    for i in range(10):  # ten members, an hour ago
        activity.record(f"idle{i}", "bonjour", T0)
    later = T0 + timedelta(hours=1)
    for i in range(12):  # twelve busy now: the idle ones go, the busy ones stay
        activity.record(f"busy{i}", "bonjour", later + timedelta(seconds=i))
    assert len(activity) == 12
    # A busy member's history is intact: their next messages still count towards a flood.
    assert activity.record("busy0", "encore", later + timedelta(seconds=20)).recent == 2


def test_past_the_bound_a_flooding_member_is_still_counted() -> None:
    activity = Activity(timedelta(seconds=30), timedelta(minutes=10), most=10)
    counts = []
    for i in range(40):  # a crowd of 40 newcomers at once, one of them posting between each
        activity.record(f"crowd{i}", "bonjour", T0 + timedelta(seconds=i / 2))
        counts.append(activity.record("cy", f"point {i}", T0 + timedelta(seconds=i / 2)).recent)
        assert len(activity) <= 10
    assert counts == list(range(1, 41))
    # The member who posted least recently was forgotten: their next message starts afresh.
    assert activity.record("crowd0", "bonjour", T0 + timedelta(seconds=21)).repeats == 1


def test_the_same_text_repeated_past_the_bound_is_still_a_repeat() -> None:
    activity = Activity(timedelta(seconds=30), timedelta(minutes=10), most=10)
    repeats = []
    for i in range(30):
        at = T0 + timedelta(seconds=10 * i)
        repeats.append(activity.record("dan", "venez voir ma formation", at).repeats)
        for j in range(5):  # others post in between, more than the bound over the minutes
            activity.record(f"m{i}-{j}", "bonjour", at + timedelta(seconds=1))
    assert repeats[:3] == [1, 2, 3]
    assert repeats[-1] == 30
