"""Hostile and odd input through the whole bot: no crash, nothing over platform limits."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.platform import DISCORD_LIKE, MATRIX_LIKE
from bot.testing import Harness
from storage import rounds as store

ZALGO = "Z" + "\u0336\u0334\u0353\u0317\u034e" * 60 + "algo"
ODD = [
    "x" * 10_000,
    "NUL\x00inside\x00",
    "\u202eRTL override: droite à gauche\u202c",
    ZALGO,
    "@everyone @here <@&123> regardez !",
    "\u200b\u200b\u200b",
    "**gras** `code` ||spoiler|| > citation",
    "emoji 🧑‍⚕️👩🏽‍🏫 " * 200,
]

hostile = st.one_of(
    st.text(min_size=1, max_size=300),
    st.sampled_from(ODD),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50).map(lambda t: "/" + t),
)


async def _scenario(profile: str, texts: list[str]) -> None:
    async with Harness(profile, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.command("hana", "/prompt now")
        thread = list(h.platform.threads.values())[-1]
        for i, text in enumerate(texts):
            await h.say(f"m{i}", text, thread=thread)
            await h.say(f"m{i}", text)  # in the channel too (commands, chatter)
            await h.command(f"m{i}", "/answer " + text)
        limit = (DISCORD_LIKE if profile == "discord" else MATRIX_LIKE).max_message_length
        assert all(len(sent.text) <= limit for sent in h.sent)
        assert not [s.text for s in h.sent if "incident" in s.text], "a handler crashed"
        # Every message in the thread is an answer (bar text commands), stored exactly once.
        expected = [t for t in texts if not (profile == "matrix" and t.startswith("!"))]
        answers = [
            a for a in await store.answers(h.db, 1) if not a.message_id.startswith("command")
        ]
        assert len(answers) == len(expected)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(hostile, min_size=1, max_size=4), profile=st.sampled_from(["discord", "matrix"])
)
def test_hostile_text_never_crashes_the_bot(texts: list[str], profile: str) -> None:
    asyncio.run(_scenario(profile, texts))


def test_each_odd_message_is_handled(profile: str) -> None:
    asyncio.run(_scenario(profile, ODD))
