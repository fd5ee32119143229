"""Votes on Discord, through SimCord: statements with buttons, private votes by click.

A host posts statements in the round's thread (their own, and a member's proposal once
approved); each comes with Agree / Disagree / Pass buttons whose ids carry the ``/vote``
command, so a click votes as the member who clicked, answered only to them.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import discord
import pytest

from bot.adapters.discord.render import read_action_id
from bot.config import Config, DigestSettings, VotesSettings
from bot.i18n import translator
from cogs.votes import consensus
from storage import votes as store

FR = translator("fr")


def _buttons(message: discord.Message) -> list[tuple[str, str, discord.ButtonStyle]]:
    return [
        (c.label or "", c.custom_id or "", c.style)
        for row in message.components
        if isinstance(row, discord.ActionRow)
        for c in row.children
        if isinstance(c, discord.Button)
    ]


async def _statements(world: Any) -> tuple[Any, discord.Thread, list[discord.Message]]:
    """A round open; Hana adds a statement and approves Ana's: both posted in the thread."""
    await world.start_bot()
    s = world.server()
    opened = await s.hana.slash(s.channel, "prompt now")
    assert opened.response is not None
    (thread,) = s.channel.threads
    added = await s.hana.slash(s.channel, "statement add", text="Nos outils isolent chaque métier.")
    assert added.ephemeral and added.response is not None
    assert "n°1" in added.response.content
    proposed = await s.ana.slash(
        s.channel, "statement add", text="On manque de temps pour publier."
    )
    assert proposed.ephemeral and proposed.response is not None
    assert "n°2" in proposed.response.content
    approved = await s.hana.slash(s.channel, "statement approve", id="2")
    assert approved.ephemeral and approved.response is not None
    await world.sim.settle()
    posts = [m for m in thread.history() if m.components]
    return s, thread, posts


async def test_statements_are_posted_in_the_thread_with_three_buttons(world: Any) -> None:
    s, thread, posts = await _statements(world)
    # In the round's thread, not in the channel.
    assert not [m for m in s.channel.history() if m.components]
    assert {p.channel.id for p in posts} == {thread.id}
    assert [p.content for p in posts] == [
        "**n°1** Nos outils isolent chaque métier.",
        "**n°2** On manque de temps pour publier.",
    ]
    for number, post in enumerate(posts, start=1):
        buttons = _buttons(post)
        assert [(label, style) for label, _id, style in buttons] == [
            (FR._("Agree"), discord.ButtonStyle.success),
            (FR._("Disagree"), discord.ButtonStyle.danger),
            (FR._("Pass"), discord.ButtonStyle.primary),
        ]
        actions = [read_action_id(custom_id) for _label, custom_id, _style in buttons]
        assert [(a.path, a.options) for a in actions if a is not None] == [
            (("vote",), {"statement": str(number), "choice": choice})
            for choice in (store.AGREE, store.DISAGREE, store.PASS)
        ]


def _id(post: discord.Message, choice: str) -> str:
    """The custom id of ``post``'s button for ``choice``."""
    for _label, custom_id, _style in _buttons(post):
        action = read_action_id(custom_id)
        if action is not None and action.options.get("choice") == choice:
            return custom_id
    raise AssertionError(f"no {choice} button")


async def test_members_vote_by_click_privately_and_can_change_their_vote(world: Any) -> None:
    s, thread, (first, second) = await _statements(world)
    agree = await s.ana.click(first, custom_id=_id(first, store.AGREE))
    assert agree.ephemeral and agree.response is not None
    recorded = FR._("Your vote on #{id} is recorded: {choice}.", id=1, choice=FR._("agree"))
    assert agree.response.content.startswith(recorded)
    disagree = await s.bob.click(first, custom_id=_id(first, store.DISAGREE))
    assert disagree.ephemeral and disagree.response is not None
    passed = await s.hana.click(second, custom_id=_id(second, store.PASS))
    assert passed.ephemeral and passed.response is not None
    # A second click changes the vote: still one vote per member and statement.
    changed = await s.ana.click(first, custom_id=_id(first, store.DISAGREE))
    assert changed.ephemeral and changed.response is not None
    assert changed.response.content.startswith(
        FR._(
            "Your vote on #{id} is now: {choice} (it was: {before}).",
            id=1,
            choice=FR._("disagree"),
            before=FR._("agree"),
        )
    )
    casts = await store.round_votes(world.db, 1)
    assert sorted((c.statement_id, c.choice) for c in casts) == [
        (1, store.DISAGREE),
        (1, store.DISAGREE),
        (2, store.PASS),
    ]
    assert await store.vote_count(world.db, 1) == 2
    # Nobody else sees any of it: each member sees their own confirmations, no one else's.
    own = {
        s.ana.id: {agree.response.id, changed.response.id},
        s.bob.id: {disagree.response.id},
        s.hana.id: {passed.response.id},
    }
    for viewer in (s.ana, s.bob, s.hana):
        seen = [*thread.history(viewer=viewer), *s.channel.history(viewer=viewer)]
        about_votes = {m.id for m in seen if "votre vote" in m.content.lower()}
        assert about_votes == own[viewer.id]
    # The standing counts each member once per statement, whatever the clicks.
    scored = consensus.score(await store.round_votes(world.db, 1), min_voters=1, min_professions=1)
    tallies = {e.statement_id: [(t.agree, t.disagree, t.passed) for t in e.tallies] for e in scored}
    assert tallies == {1: [(0, 2, 0)], 2: [(0, 0, 1)]}


async def test_a_replayed_click_is_stored_and_answered_once(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    s, thread, (first, _second) = await _statements(world)
    backend: Any = world.sim.backend
    emitted: list[dict[str, Any]] = []
    emit = backend.emit

    def record(event: str, payload: Any) -> Any:
        if event == "INTERACTION_CREATE":
            emitted.append(payload)
        return emit(event, payload)

    backend.emit = record
    clicked = await s.ana.click(first, custom_id=_id(first, store.AGREE))
    assert clicked.response is not None
    # The gateway delivers the same interaction again (a resumed session replays it).
    (payload,) = emitted
    with caplog.at_level(logging.INFO, logger="bot.adapters.discord"):
        emit("INTERACTION_CREATE", payload)
        await world.sim.settle()
    # Not an error: Discord refusing a second answer is how a replay ends.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("a replay" in r.getMessage() for r in caplog.records)
    assert await store.vote_count(world.db, 1) == 1
    assert clicked.followups == []
    seen = thread.history(viewer=s.ana)
    assert len([m for m in seen if "votre vote" in m.content.lower()]) == 1


def _text(message: discord.Message) -> str:
    """What a member reads of ``message``: its content and its embeds' text."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or ""]
        parts += [f"{field.name}\n{field.value}" for field in embed.fields]
    return "\n".join(parts)


async def test_a_round_of_votes_is_reported_in_the_digest(world: Any) -> None:
    # A small circle's host lowers the minimums: four voters, two a profession, are ranked
    # (two a profession is the least the re-identification guard lets a digest show).
    small = Config(
        votes=VotesSettings(min_voters=4, min_professions=2),
        digest=DigestSettings(min_profession_size=2),
    )
    bot, _platform = await world.start_bot(config=small)
    s = world.server()
    cleo = s.guild.add_member(world.sim.create_user("cleo", global_name="Cléo"))
    dan = s.guild.add_member(world.sim.create_user("dan", global_name="Dan"))
    for member, profession in ((s.ana, "infirmière"), (cleo, "infirmière")):
        await member.slash(s.channel, "profession set", name=profession)
    for member, profession in ((s.bob, "boulanger"), (dan, "boulanger")):
        await member.slash(s.channel, "profession set", name=profession)
    await s.hana.slash(s.channel, "prompt now")
    (thread,) = s.channel.threads
    await s.hana.slash(s.channel, "statement add", text="Nos outils isolent chaque métier.")
    await world.sim.settle()
    (post,) = [m for m in thread.history() if m.components]
    await s.ana.send(thread, "Les réseaux m'aident à joindre les familles.")
    await s.bob.send(thread, "Je poste mon pain sur Instagram chaque matin.")
    for member, choice in ((s.ana, store.DISAGREE), (cleo, store.DISAGREE)):
        await member.click(post, custom_id=_id(post, choice))
    for member in (s.bob, dan):
        await member.click(post, custom_id=_id(post, store.AGREE))
    await world.sim.settle()

    await bot.scheduler.advance(timedelta(days=8))
    await world.sim.settle()
    posted = [_text(m) for m in s.channel.history()]
    [digest] = [text for text in posted if "Où les métiers divergent" in text]
    differ = digest.split("Où les métiers divergent", 1)[1]
    assert "Nos outils isolent chaque métier" in differ and "4 votants" in differ
    assert "Infirmière 0 sur 2" in differ or "Infirmier / Infirmière 0 sur 2" in differ
    # Nobody's vote is named: the digest counts, it never says who.
    for name in ("Ana", "Cléo", "Bob", "Dan"):
        assert name not in digest
