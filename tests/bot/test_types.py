"""Text entering the core is storable: NUL and lone surrogates replaced, everything else kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.testing import Harness
from bot.types import (
    ChannelRef,
    CommandInvoked,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    ThreadRef,
    UserRef,
    clean_text,
)
from storage import members
from storage import rounds as store

AT = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00b", "a\ufffdb"),
        ("\x00", "\ufffd"),
        ("café\udce9", "café\ufffd"),  # a byte smuggled in by surrogateescape
        ("\ud800\ud800x", "\ufffd\ufffdx"),
        ("\udc00\ud83d", "\ufffd\ufffd"),  # a low then a high surrogate is no pair
        ("\ud83d\ude00", "😀"),  # a pair split in two code points is joined again
        ("é\x00\ud800", "é\ufffd\ufffd"),
    ],
)
def test_nul_and_lone_surrogates_become_the_replacement_character(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    clean_text(raw).encode("utf-8")  # never raises


@pytest.mark.parametrize("text", ["", "plain", "Ça va ? 😀 — «ok»", "\ufffd", "tab\tand\nline"])
def test_clean_text_is_returned_as_is(text: str) -> None:
    assert clean_text(text) is text


def test_every_text_and_name_of_an_event_is_cleaned_where_it_is_built() -> None:
    channel = ChannelRef("matrix", "!room\x00", name="Le cercle\ud800")
    thread = ThreadRef(channel, "$t", name="Tour\x00 1")
    author = UserRef("matrix", "@ana:x", "A\x00na\udfff")
    ref = MessageRef(channel, "$m\x00", thread)
    posted = MessagePosted(ref, author, "bon\x00jour", AT)
    edited = MessageEdited(ref, author, "\ud83dbye", AT)
    reaction = ReactionAdded(ref, author, "👍\x00", AT)
    command = CommandInvoked(
        channel,
        author,
        AT,
        "cmd\x00",
        path=("profession", "set\x00"),
        options={"text\x00": "infirmi\x00ère", "count": 3},
        text="profession set a\ud800",
    )
    assert (channel.id, channel.name) == ("!room\ufffd", "Le cercle\ufffd")
    assert thread.name == "Tour\ufffd 1"
    assert author.display_name == author.label == "A\ufffdna\ufffd"
    assert ref.id == "$m\ufffd"
    assert posted.text == "bon\ufffdjour"
    assert edited.text == "\ufffdbye"
    assert reaction.emoji == "👍\ufffd"
    assert command.id == "cmd\ufffd"
    assert command.path == ("profession", "set\ufffd")
    assert dict(command.options) == {"text\ufffd": "infirmi\ufffdère", "count": 3}
    assert command.text == "profession set a\ufffd"
    # Still frozen values: hashable, equal to the same event built from clean text.
    assert posted == MessagePosted(ref, author, "bon\ufffdjour", AT)
    assert hash(posted) == hash(MessagePosted(ref, author, "bon\ufffdjour", AT))


def test_clean_options_are_kept_as_given() -> None:
    channel = ChannelRef("discord", "1")
    options = {"text": "infirmière", "count": 3}
    command = CommandInvoked(channel, UserRef("discord", "2"), AT, "c", options=options)
    assert command.options is options


async def test_a_member_s_bad_text_and_name_are_stored_and_answered(db_url: str | None) -> None:
    async with Harness("discord", start=AT, db_url=db_url) as h:
        ana = UserRef("discord", "ana", "A\x00na \ud83d")
        await h.say("bob", "bonjour")  # the channel becomes a circle
        before = len(h.sent)
        await h.platform.command(ana, "/profession set infirmi\x00ère libérale")
        assert "« infirmi\ufffdère libérale »" in h.sent[before].text
        await h.advance("61m")  # the round opens, with its thread
        thread = list(h.platform.threads.values())[-1]
        await h.platform.post(ana, "J'utilise\x00 LinkedIn \udce9 pour échanger.", thread=thread)

        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None and circle.id is not None
        round_ = await store.latest_round(h.db, circle.id)
        assert round_ is not None and round_.id is not None
        answers = await store.answers(h.db, round_.id)
        assert [a.text for a in answers] == ["J'utilise\ufffd LinkedIn \ufffd pour échanger."]
        member_id = await h.bot.directory.member_for(ana)
        account = await members.account_of(h.db, member_id, "discord")
        assert account is not None and account.display_name == "A\ufffdna \ufffd"
        # The bot still answers the member in the thread.
        assert "/profession set" in h.last().text
