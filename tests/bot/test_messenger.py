"""Tests for the messenger: splitting to the platform's limit, escaping, never mass-mentioning."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.adapters.memory import MemoryPlatform
from bot.clock import FakeClock
from bot.messenger import Messenger, card_as_text, defuse_mentions, escape, quote, split_text
from bot.platform import DISCORD_LIKE, MATRIX_LIKE, Capabilities
from bot.types import Attachment, Card, Content, Ping

ZWSP = "\u200b"
PROFILES = {"discord": DISCORD_LIKE, "matrix": MATRIX_LIKE}
MASS_MENTION = re.compile(r"@(everyone|here|room)\b", re.IGNORECASE)
ROLE_MENTION = re.compile(r"<@&\d+>")
USER_MENTION = re.compile(r"<@!?\d+>")


def platform(capabilities: Capabilities) -> MemoryPlatform:
    return MemoryPlatform(FakeClock(), capabilities=capabilities)


def words_of(chunks: list[str]) -> list[str]:
    return " ".join(chunks).split()


# --- split_text: properties ----------------------------------------------------------

# Realistic message text: words of letters (accented too), digits and punctuation, joined
# by spaces, line breaks and paragraph breaks.
_WORD_CHARS = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzéèàçôABCXYZ0123456789.,;:!?…'’-()*_"))
_ANY_WORD = st.text(_WORD_CHARS, min_size=1, max_size=15)
_SEPARATOR = st.sampled_from([" ", " ", " ", " ", "  ", "\n", "\n\n", "\n\n\n"])


@st.composite
def texts_and_limits(draw: st.DrawFn) -> tuple[str, int]:
    """A text whose words all fit the limit, and a limit usually shorter than the text."""
    words = draw(st.lists(_ANY_WORD, min_size=1, max_size=80))
    text = words[0]
    for word in words[1:]:
        text += draw(_SEPARATOR) + word
    longest = max(len(w) for w in words)
    limit = draw(st.integers(min_value=longest, max_value=max(longest, len(text))))
    return text, limit


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600), st.integers(min_value=1, max_value=200))
def test_every_chunk_fits_the_limit(text: str, limit: int) -> None:
    for chunk in split_text(text, limit):
        assert 0 < len(chunk) <= limit


@settings(max_examples=200, deadline=None)
@given(texts_and_limits())
def test_no_word_is_lost_or_cut(case: tuple[str, int]) -> None:
    text, limit = case
    chunks = split_text(text, limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    assert words_of(chunks) == text.split()


@st.composite
def texts_with_long_words(draw: st.DrawFn) -> tuple[str, int]:
    """A text where some words may be longer than the limit."""
    words = draw(st.lists(st.text(_WORD_CHARS, min_size=1, max_size=40), min_size=1, max_size=40))
    text = words[0]
    for word in words[1:]:
        text += draw(_SEPARATOR) + word
    return text, draw(st.integers(min_value=1, max_value=25))


@settings(max_examples=150, deadline=None)
@given(texts_with_long_words())
def test_only_words_longer_than_the_limit_are_cut(case: tuple[str, int]) -> None:
    text, limit = case
    chunks = split_text(text, limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    # Gluing the pieces of cut words back gives the words again, in order.
    assert "".join(words_of(chunks)) == "".join(text.split())
    # Words that fit come out whole, in order.
    short = [word for word in text.split() if len(word) <= limit]
    out = iter(words_of(chunks))
    assert all(word in out for word in short)


@settings(max_examples=150, deadline=None)
@given(st.lists(texts_and_limits(), min_size=1, max_size=6), st.data())
def test_paragraphs_that_fit_are_not_split(
    cases: list[tuple[str, int]], data: st.DataObject
) -> None:
    paragraphs = [re.sub(r"\n+", "\n", text) for text, _ in cases]
    text = "\n\n".join(paragraphs)
    shortest = min(len(p) for p in paragraphs)
    limit = data.draw(st.integers(min_value=max(1, shortest), max_value=max(1, len(text))))
    chunks = split_text(text, limit)
    for paragraph in paragraphs:
        paragraph = paragraph.strip("\n")
        if paragraph.strip() and len(paragraph) <= limit:
            assert any(paragraph in chunk for chunk in chunks), (paragraph, chunks)


_WORD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzé"), min_size=1, max_size=9)
_SENTENCE = st.lists(_WORD, min_size=1, max_size=8).map(lambda ws: " ".join(ws).capitalize() + ".")


@settings(max_examples=150, deadline=None)
@given(st.lists(_SENTENCE, min_size=2, max_size=10), st.data())
def test_sentence_boundaries_are_preferred_to_spaces(
    sentences: list[str], data: st.DataObject
) -> None:
    text = " ".join(sentences)
    longest = max(len(s) for s in sentences)
    assume(longest < len(text))
    limit = data.draw(st.integers(min_value=longest, max_value=len(text) - 1))
    chunks = split_text(text, limit)
    assert len(chunks) > 1
    for chunk in chunks:
        # Every sentence fits, so no chunk may end (or start) in the middle of one.
        assert chunk.endswith("."), chunks
        assert chunk[0].isupper() or not chunk[0].isalpha(), chunks
    assert words_of(chunks) == text.split()


# --- split_text: examples ------------------------------------------------------------


def test_short_text_is_one_chunk_and_empty_text_none() -> None:
    assert split_text("Bonjour !", 2000) == ["Bonjour !"]
    assert split_text("", 2000) == []
    assert split_text("\n\n\n\n", 2) == []


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_text("abc", 0)


def test_sentence_end_beats_a_later_space() -> None:
    text = "Alpha beta gamma. Delta epsilon zeta eta."
    # Packing words greedily would give "Alpha beta gamma. Delta epsilon" (31 chars).
    assert split_text(text, 31) == ["Alpha beta gamma.", "Delta epsilon zeta eta."]


def test_paragraph_break_beats_a_line_break() -> None:
    text = "Un deux.\n\nTrois.\nQuatre."
    # Packing lines greedily would give "Un deux.\n\nTrois." (16 chars) then "Quatre.".
    assert split_text(text, 16) == ["Un deux.", "Trois.\nQuatre."]


def test_line_break_beats_a_sentence_end() -> None:
    text = "Première phrase. Suite\nDeuxième ligne."
    assert split_text(text, 25) == ["Première phrase. Suite", "Deuxième ligne."]


def test_a_word_longer_than_the_limit_is_cut() -> None:
    assert split_text("a " + "x" * 25, 10) == ["a", "x" * 10, "x" * 10, "x" * 5]


def test_tab_separated_words_are_not_cut() -> None:
    # A tab separates words as a space does; neither word is longer than the limit.
    assert words_of(split_text("aaaa\tbbbb", 6)) == ["aaaa", "bbbb"]


def _long_text() -> str:
    sentence = "Les métiers partagent une question, chacun la lit à sa manière."  # 64 chars
    paragraphs = [" ".join([sentence] * (3 + i % 5)) for i in range(40)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 10_000
    return text


def test_ten_thousand_characters_at_discord_limit() -> None:
    text = _long_text()
    chunks = split_text(text, 2000)
    assert all(len(chunk) <= 2000 for chunk in chunks)
    assert len(chunks) == pytest.approx(len(text) / 2000, abs=2)
    assert words_of(chunks) == text.split()
    # Every paragraph fits, so every paragraph is whole in one message.
    for paragraph in text.split("\n\n"):
        assert any(paragraph in chunk for chunk in chunks)
    assert all(not chunk.startswith(("\n", " ")) for chunk in chunks)


def test_ten_thousand_characters_without_paragraphs_breaks_at_sentences() -> None:
    text = " ".join(["Une phrase de quarante-trois caractères ici."] * 240)
    assert len(text) > 10_000
    chunks = split_text(text, 2000)
    assert all(len(chunk) <= 2000 for chunk in chunks)
    assert all(chunk.endswith(".") for chunk in chunks)
    assert words_of(chunks) == text.split()


# --- escaping ------------------------------------------------------------------------


def test_escape_neutralises_formatting_and_every_mention() -> None:
    out = escape("**bold** <@123> @here")
    assert "<@123>" not in out
    assert not USER_MENTION.search(out)
    assert not MASS_MENTION.search(out)
    # Every Markdown special character is escaped with a backslash.
    assert re.search(r"(?<!\\)[*<>]", out) is None, out
    assert out.replace("\\", "").replace(ZWSP, "") == "**bold** <@123> @here"


@pytest.mark.parametrize(
    "text",
    [
        "__souligné__ _italique_ ~~barré~~ ||secret|| `code` [lien](https://x.test)",
        "# Titre\n> citation",
        "<@!42> <@&7> <#9> @everyone @room @EVERYONE",
    ],
)
def test_escape_leaves_no_active_syntax(text: str) -> None:
    out = escape(text)
    assert re.search(r"(?<!\\)[_*~|`\[\]()#<>]", out) is None, out
    assert not USER_MENTION.search(out)
    assert not ROLE_MENTION.search(out)
    assert not MASS_MENTION.search(out)
    # Only the invisible defusing characters and backslashes were added.
    assert out.replace("\\", "").replace(ZWSP, "") == text


def test_defuse_mentions_keeps_user_mentions_but_breaks_mass_and_roles() -> None:
    out = defuse_mentions("@everyone @here @room <@&42> <@42> **gras**")
    assert not MASS_MENTION.search(out)
    assert not ROLE_MENTION.search(out)
    assert "<@42>" in out
    assert "**gras**" in out


def test_quote_escapes_each_line() -> None:
    assert quote("ligne *un*\n@everyone") == f"> ligne \\*un\\*\n> @{ZWSP}everyone"
    assert quote("") == "> "


def test_card_as_text() -> None:
    card = Card("Digest", "Ce que les métiers partagent.", (("Soins", "3 réponses"),), "Semaine 2")
    assert card_as_text(card) == (
        "**Digest**\n\nCe que les métiers partagent.\n\n**Soins**\n3 réponses\n\n_Semaine 2_"
    )


# --- Messenger.prepare and sending ---------------------------------------------------

CARD = Card("Question de la semaine", "Qu’est-ce qui a changé ?", (("Métiers", "12"),), "Cercle")
CHART = Attachment("chart.png", b"\x89PNG", "image/png")


def test_cards_are_kept_on_discord_like() -> None:
    messages = Messenger(platform(DISCORD_LIKE)).prepare(Content("Bonjour", card=CARD))
    assert messages == [Content("Bonjour", card=CARD)]


def test_cards_are_flattened_on_matrix_like() -> None:
    messages = Messenger(platform(MATRIX_LIKE)).prepare(Content("Bonjour", card=CARD))
    assert len(messages) == 1
    assert messages[0].card is None
    assert messages[0].text == "Bonjour\n\n" + card_as_text(CARD)


def test_card_alone_on_discord_like_is_one_message_without_text() -> None:
    messages = Messenger(platform(DISCORD_LIKE)).prepare(Content(card=CARD, attachments=(CHART,)))
    assert messages == [Content("", card=CARD, attachments=(CHART,))]


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_attachments_and_card_ride_on_the_last_message(name: str) -> None:
    small = dataclasses.replace(PROFILES[name], max_message_length=40)
    text = " ".join(["Une phrase assez longue pour remplir."] * 5)
    messages = Messenger(platform(small)).prepare(Content(text, card=CARD, attachments=(CHART,)))
    assert len(messages) > 1
    assert all(len(m.text) <= 40 for m in messages)
    assert messages[-1].attachments == (CHART,)
    assert all(m.attachments == () for m in messages[:-1])
    assert all(m.card is None for m in messages[:-1])
    assert messages[-1].card == (CARD if small.cards else None)


@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_mass_mentions_in_bot_text_are_defused(name: str) -> None:
    memory = platform(PROFILES[name])
    messenger = Messenger(memory)
    text = "Rappel @everyone et @here et @room, les hôtes <@&123> : le digest est prêt."
    refs = await messenger.send(memory.channel, text)
    assert len(refs) == len(memory.sent) == 1
    out = memory.sent[0].text
    assert not MASS_MENTION.search(out)
    assert not ROLE_MENTION.search(out)
    assert out.replace(ZWSP, "") == text


async def test_mass_mention_inside_a_card_is_defused_on_matrix_like() -> None:
    memory = platform(MATRIX_LIKE)
    card = Card("Annonce", "Bonjour @everyone")
    await Messenger(memory).send(memory.channel, Content(card=card))
    assert not MASS_MENTION.search(memory.sent[0].text)


@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_long_text_is_sent_within_the_platform_limit(name: str) -> None:
    memory = platform(PROFILES[name])
    text = _long_text() * 2
    refs = await Messenger(memory).send(memory.channel, text)
    limit = PROFILES[name].max_message_length
    assert len(refs) == len(memory.sent) >= 2
    assert all(len(s.text) <= limit for s in memory.sent)
    assert words_of([s.text for s in memory.sent]) == text.split()


async def test_send_direct_goes_to_the_member() -> None:
    memory = platform(DISCORD_LIKE)
    alice = memory.user("Alice")
    await Messenger(memory).send_direct(alice, "Coucou @here")
    [sent] = memory.sent
    assert sent.where == "direct"
    assert sent.to == alice
    assert not MASS_MENTION.search(sent.text)


async def test_reply_private_is_ephemeral_on_discord_like() -> None:
    memory = platform(DISCORD_LIKE)
    alice = memory.user("Alice")
    await Messenger(memory).reply_private(alice, "Rien que pour vous", token=memory.channel)
    [sent] = memory.sent
    assert sent.where == "ephemeral"
    assert sent.to == alice
    assert sent.text == "Rien que pour vous"


async def test_reply_private_without_token_falls_back_to_direct() -> None:
    memory = platform(DISCORD_LIKE)
    alice = memory.user("Alice")
    await Messenger(memory).reply_private(alice, "Rien que pour vous")
    [sent] = memory.sent
    assert sent.where == "direct"
    assert sent.to == alice


async def test_reply_private_is_a_direct_message_on_matrix_like() -> None:
    memory = platform(MATRIX_LIKE)
    alice = memory.user("Alice")
    await Messenger(memory).reply_private(alice, "Rien que pour vous", token=memory.channel)
    [sent] = memory.sent
    assert sent.where == "direct"
    assert sent.to == alice
    assert sent.text == "Rien que pour vous"
    assert all(s.where != "ephemeral" for s in memory.sent)


def test_the_hosts_mention_rides_on_the_first_message_with_room_for_it() -> None:
    # Two paragraphs fill 1,990 of Discord's 2,000 characters: no room left for a role.
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 196 for i in range(6))
    messages = Messenger(platform(DISCORD_LIKE)).prepare(Content(text, ping=Ping(role="4242")))
    assert len(messages) > 1
    assert [m.ping for m in messages] == [Ping(role="4242")] + [None] * (len(messages) - 1)
    # What Discord's adapter puts before the text still fits the platform's limit.
    assert all(len("<@&" + "9" * 20 + "> " + m.text) <= 2000 for m in messages)
