"""The router: permissions, usage, the error boundary, listeners, duplicates, private replies."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.cog import Cog, CommandContext, EventContext, command
from bot.commands import OptionSpec, OptionType, Scope
from bot.testing import Harness, Sent
from bot.types import ChannelRef, MessagePosted, Role, Verdict, Visibility
from cogs.core import CoreCog


class Probe(Cog):
    """A cog that records what reaches it and misbehaves on demand."""

    name = "probe"
    seen: list[str]

    def __init__(self, services: Any) -> None:
        super().__init__(services)
        self.seen = []

    @command(
        "echo",
        description="Repeat a number.",
        options=[
            OptionSpec(
                "times",
                "How many times",
                OptionType.INTEGER,
                required=True,
                min_value=1,
                max_value=3,
            ),
            OptionSpec("words", "What to say", rest=True),
        ],
    )
    async def echo(self, ctx: CommandContext) -> None:
        await ctx.reply(" ".join([ctx.options["words"] or "?"] * ctx.options["times"]))

    @command("boom", description="Fail on purpose.")
    async def boom(self, ctx: CommandContext) -> None:
        raise RuntimeError("kaboom")

    @command("secret", description="Hosts only.", role=Role.HOST, private=True)
    async def secret(self, ctx: CommandContext) -> None:
        await ctx.reply("the host secret")

    @command("where", description="Only in the circle.", scope=Scope.CIRCLE)
    async def where(self, ctx: CommandContext) -> None:
        await ctx.reply(f"circle {ctx.circle.id if ctx.circle else None}")

    async def on_message(self, ctx: EventContext) -> None:
        assert isinstance(ctx.event, MessagePosted)
        if ctx.event.text == "crash":
            raise ValueError("listener crash")
        self.seen.append(ctx.event.text)

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


def probe(h: Harness) -> Probe:
    return next(c for c in h.bot.cogs if isinstance(c, Probe))


async def test_command_with_options_runs_on_both_profiles(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, Probe]) as h:
        await h.command("ana", "/echo times:2 bonjour à tous")
        assert h.last().text == "bonjour à tous bonjour à tous"
        assert h.last().where == "channel"


async def test_malformed_command_gets_its_usage_privately(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, Probe]) as h:
        replies = await h.command("ana", "/echo times:9 hi")
        assert len(replies) == 1
        reply = replies[0]
        assert reply.to is not None and reply.to.id == "ana"
        assert reply.where == ("ephemeral" if profile == "discord" else "direct")
        # The circle speaks French by default; the usage line is generated from the spec.
        assert "times doit être compris entre 1 et 3" in reply.text
        prefix = "/" if profile == "discord" else "!"
        assert f"{prefix}echo times:<nombre> [<words>]" in reply.text


async def test_failing_handler_tells_member_logs_traceback_and_bot_keeps_going(
    profile: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Harness(profile, cogs=[CoreCog, Probe]) as h:
        with caplog.at_level(logging.ERROR):
            replies = await h.command("ana", "/boom")
        assert len(replies) == 1 and replies[0].to is not None
        assert "incident" in replies[0].text
        code = replies[0].text.split("incident ")[1][:6]
        record = next(r for r in caplog.records if code in r.getMessage())
        assert record.exc_info is not None and "kaboom" in str(record.exc_info[1])
        await h.command("ana", "/echo times:1 still here")
        assert h.last().text == "still here"


async def test_host_command_refused_to_member_allowed_to_host(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, Probe], hosts=["hana"]) as h:
        refused = await h.command("ana", "/secret")
        assert len(refused) == 1
        assert "réservé aux hôtes" in refused[0].text
        assert "the host secret" not in refused[0].text
        allowed = await h.command("hana", "/secret")
        assert [s.text for s in allowed] == ["the host secret"]
        assert allowed[0].to is not None and allowed[0].to.id == "hana"


async def test_circle_command_refused_in_direct_messages() -> None:
    async with Harness("discord", cogs=[CoreCog, Probe]) as h:
        dm = ChannelRef(h.platform.name, "dm-ana", direct=True)
        before = len(h.sent)
        await h.platform.command("ana", "/where", channel=dm)
        assert "salon du cercle" in h.sent[before].text
        await h.command("ana", "/where")
        assert h.last().text.startswith("circle ")


async def test_unknown_command_points_to_help(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, Probe]) as h:
        replies = await h.command("ana", "/nothing here")
        assert len(replies) == 1
        assert "Commande inconnue" in replies[0].text and "help" in replies[0].text


async def test_listeners_get_messages_and_a_crashing_listener_is_contained(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, Probe]) as h:
        await h.say("ana", "hello")
        await h.say("ana", "crash")
        await h.say("bob", "still listening")
        assert probe(h).seen == ["hello", "still listening"]
        # The member whose message broke a listener is told, privately.
        assert any("incident" in s.text for s in h.private_to("ana"))


async def test_a_listener_given_to_a_cog_at_run_time_hears_messages() -> None:
    # Cogs that keep the base class's empty listener are skipped: one given its own later
    # (as a plugin or a test may) must not be.
    async with Harness("discord", cogs=[CoreCog, Probe]) as h:
        core = next(c for c in h.bot.cogs if isinstance(c, CoreCog))
        heard: list[str] = []

        async def on_message(ctx: EventContext) -> None:
            assert isinstance(ctx.event, MessagePosted)
            heard.append(ctx.event.text)

        core.on_message = on_message  # type: ignore[method-assign]
        await h.say("ana", "hello")
        assert heard == ["hello"] and probe(h).seen == ["hello"]


async def test_text_command_prefix_only_on_text_platforms() -> None:
    async with Harness("matrix", cogs=[CoreCog, Probe]) as h:
        await h.say("ana", "!echo times:1 via text")
        assert h.last().text == "via text"
        assert probe(h).seen == []
    async with Harness("discord", cogs=[CoreCog, Probe]) as h:
        await h.say("ana", "!echo times:1 via text")
        assert probe(h).seen == ["!echo times:1 via text"]


async def test_duplicate_delivery_is_handled_once() -> None:
    async with Harness("discord", cogs=[CoreCog, Probe]) as h:
        ref = await h.say("ana", "once")
        # The platform redelivers an event the bot already handled (e.g. after a reconnect).
        await h.platform.deliver(MessagePosted(ref, h.platform.user("ana"), "once", h.clock.now()))
        assert probe(h).seen == ["once"]
        await h.say("ana", "once")  # the same words in a new message are a new message
        assert probe(h).seen == ["once", "once"]


async def test_members_and_circles_are_stored_once() -> None:
    async with Harness("discord", cogs=[CoreCog, Probe]) as h:
        first = await h.bot.directory.member_for(h.platform.user("Ana"))
        await h.say("Ana", "one")
        await h.say("Ana", "two")
        assert await h.bot.directory.member_for(h.platform.user("Ana")) == first
        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None
        assert circle.locale == "fr" and circle.timezone == "Europe/Paris"


def test_two_cogs_declaring_the_same_command_is_refused() -> None:
    class Twin(Probe):
        name = "twin"

    with pytest.raises(ValueError, match="declared by both Probe and Twin"):
        Harness("discord", cogs=[Probe, Twin])


class Quiet(Cog):
    """A cog with no commands."""

    name = "quiet"

    def __init__(self, services: Any) -> None:
        super().__init__(services)
        self.seen: list[str] = []

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


class Strict(Quiet):
    """Holds messages containing 'hold', hides 'hide', redacts digits."""

    name = "strict"

    async def inspect(self, ctx: EventContext) -> Verdict | None:
        text = getattr(ctx.event, "text", "")
        if "hide" in text:
            return Verdict(Visibility.HIDDEN, text, rule="hide-rule")
        if "hold" in text:
            return Verdict(Visibility.HELD, text, rule="hold-rule")
        if any(c.isdigit() for c in text):
            return Verdict(Visibility.REDACTED, "".join("•" if c.isdigit() else c for c in text))
        return None


class Verdicts(Quiet):
    name = "verdicts"

    async def on_message(self, ctx: EventContext) -> None:
        assert ctx.verdict is not None
        self.seen.append(f"{ctx.verdict.visibility.name}:{ctx.verdict.text}")


async def test_listeners_see_the_most_restrictive_verdict() -> None:
    class Broken(Strict):
        name = "broken"

        async def inspect(self, ctx: EventContext) -> Verdict | None:
            raise RuntimeError("rule bug")

    async with Harness("discord", cogs=[Broken, Strict, Verdicts]) as h:
        for text in ("plain", "call 0612", "hold 06", "hide and hold"):
            await h.say("ana", text)
        seen = next(c for c in h.bot.cogs if isinstance(c, Verdicts)).seen
        assert seen == [
            "VISIBLE:plain",
            "REDACTED:call ••••",
            "HELD:hold 06",
            "HIDDEN:hide and hold",
        ]


async def test_signals_reach_every_cog_even_if_one_fails() -> None:
    heard: list[tuple[str, object]] = []

    class Listener(Quiet):
        name = "listener"

        async def on_signal(self, signal: object) -> None:
            heard.append((self.name, signal))

    class Deaf(Quiet):
        name = "deaf"

        async def on_signal(self, signal: object) -> None:
            raise RuntimeError("cannot hear")

    class Listener2(Listener):
        name = "listener2"

    async with Harness("discord", cogs=[Deaf, Listener, Listener2]) as h:
        await h.bot.signals.emit("profession-set")
    assert heard == [("listener", "profession-set"), ("listener2", "profession-set")]


async def spam(h: Harness, name: str, text: str) -> list[Sent]:
    """A member runs a command 100 ms after the previous one (simulated time moves)."""
    h.clock.advance(timedelta(milliseconds=100))
    return await h.command(name, text)


async def test_a_member_spamming_commands_is_throttled_politely(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, Probe]) as h:
        for _ in range(8):
            await spam(h, "ana", "/echo times:1 hi")
        replies = [await spam(h, "ana", "/echo times:1 hi") for _ in range(3)]
        assert "plus vite que je ne peux suivre" in replies[0][0].text
        assert replies[1] == [] and replies[2] == []  # told once, then ignored a moment
        assert (await h.command("bob", "/echo times:1 bob"))[0].text == "bob"  # others unaffected
        h.clock.advance(timedelta(seconds=11))
        assert (await h.command("ana", "/echo times:1 again"))[0].text == "again"
        assert h.bot.metrics.value("cercle_commands_throttled_total") == 3


async def test_commands_while_simulated_time_stands_still_are_never_throttled() -> None:
    async with Harness("matrix", cogs=[CoreCog, Probe]) as h:
        # A console script between two :advance: forty commands at one instant all answered.
        replies = [await h.command("ana", f"/echo times:1 n{i}") for i in range(40)]
        assert [r[0].text for r in replies] == [f"n{i}" for i in range(40)]
        assert h.bot.metrics.value("cercle_commands_throttled_total") == 0
        # Throttled while time moves, a member is not locked out once it stands still.
        for _ in range(8):
            await spam(h, "bob", "/echo times:1 hi")
        assert "plus vite" in (await spam(h, "bob", "/echo times:1 hi"))[0].text
        assert await spam(h, "bob", "/echo times:1 hi") == []  # still too fast: ignored
        assert (await h.command("bob", "/echo times:1 still"))[0].text == "still"


async def test_throttle_memory_is_bounded_and_an_active_member_is_still_throttled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.router._THROTTLED_MEMBERS", 20)
    async with Harness("discord", cogs=[CoreCog, Probe]) as h:
        for i in range(60):  # many members run a command each
            await h.command(f"m{i}", "/echo times:1 hi")
        assert len(h.bot.router._recent) == 20  # memory stays flat
        for _ in range(8):
            await spam(h, "ana", "/echo times:1 hi")
        replies = await spam(h, "ana", "/echo times:1 hi")
        assert "plus vite que je ne peux suivre" in replies[0].text
        assert len(h.bot.router._recent) == 20
