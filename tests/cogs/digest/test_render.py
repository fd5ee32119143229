"""Rendering: within each platform's limits, cut only between entries, headings translated."""

from __future__ import annotations

import dataclasses
import re

from bot.adapters.memory import MemoryPlatform
from bot.clock import FakeClock
from bot.i18n import translator
from bot.messenger import Messenger
from bot.testing import DEFAULT_START, PROFILES
from cogs.digest import analysis as an
from cogs.digest import render

LONG = (
    "Les algorithmes cachent nos publications depuis des mois, et nous devons payer pour être "
    "vus par nos propres abonnés, ce qui décourage les petites structures comme la mienne."
)


def big_digest(themes: int = 40, repeat: int = 7) -> an.Digest:
    """A digest far longer than one message, with a unique sentence per quote."""

    def theme(i: int, profession: str = "nurse") -> an.Theme:
        return an.Theme(
            label=f"theme{i}, keyword{i}",
            keywords=(f"theme{i}",),
            authors={"nurse": 5, "lawyer": 4, "baker": 3},
            answers=12,
            sentences=12,
            quote=an.Quote(
                f"Quote number {i}. " + " ".join([LONG] * repeat), "fr", profession, answer=str(i)
            ),
            score=1 / (i + 1),
        )

    participation = an.Participation(
        answers=300,
        comments=40,
        reactions=500,
        members=320,
        by_profession={"nurse": 100, "lawyer": 100, "baker": 100},
        authors_by_profession={"nurse": 90, "lawyer": 90, "baker": 90},
        by_language={"fr": 200, "en": 100},
    )
    return an.Digest(
        prompt="How do you use social networks in your profession?",
        participation=participation,
        shared=tuple(theme(i) for i in range(themes)),
        distinctive=tuple(
            an.Distinctive("nurse", theme(100 + i), 7, 17, 0, 100) for i in range(themes)
        ),
        sub_questions=(
            an.SubQuestion(
                "What is missing?", "missing", tuple(theme(200 + i) for i in range(themes))
            ),
        ),
        agreement=tuple(an.Agreement(theme(300 + i).quote, 9, 5) for i in range(3)),
        not_heard=("judge",),
        follow_up=an.FollowUp("shared", "theme0, keyword0"),
    )


def _messages(profile: str, d: an.Digest) -> list[object]:
    platform = MemoryPlatform(FakeClock(DEFAULT_START), capabilities=PROFILES[profile])
    contents = render.contents(
        d, translator("fr"), platform.capabilities, title="Synthèse", chart=b"\x89PNG"
    )
    messenger = Messenger(platform)
    return [part for content in contents for part in messenger.prepare(content)]


def test_every_message_fits_the_platform(profile: str) -> None:
    d = big_digest()
    caps = PROFILES[profile]
    parts = _messages(profile, d)
    assert len(parts) > 1
    for part in parts:
        assert len(part.text) <= caps.max_message_length  # type: ignore[attr-defined]
        card = part.card  # type: ignore[attr-defined]
        if card is not None:
            assert len(card.body) <= render.EMBED_DESCRIPTION
            assert len(card.title) <= render.EMBED_TITLE
            total = len(card.title) + len(card.body) + len(card.footer)
            total += sum(len(n) + len(v) for n, v in card.fields)
            assert total <= render.EMBED_TOTAL
    # The chart rides on the last message only.
    assert [bool(p.attachments) for p in parts] == [False] * (len(parts) - 1) + [True]  # type: ignore[attr-defined]


def test_quotes_are_never_cut(profile: str) -> None:
    d = big_digest()
    parts = _messages(profile, d)
    bodies = [
        (p.card.body if p.card is not None else p.text)  # type: ignore[attr-defined]
        for p in parts
    ]
    escaped_long = re.sub(r"([\\`*_~|>#\[\]()<])", r"\\\1", " ".join([LONG] * 7))
    for i in (0, 4, 100, 105, 200, 202):
        whole = f"Quote number {i}. {escaped_long}"
        assert sum(whole in body for body in bodies) == 1, f"quote {i} was cut or lost"


def test_every_section_in_french_and_english() -> None:
    d = big_digest(3)
    fr = render.markdown(d, translator("fr"), title="Synthèse")
    en = render.markdown(d, translator("en"), title="Digest")
    for heading in (
        "Participation",
        "Ce que les métiers partagent",
        "Ce qui distingue chaque métier",
        "What is missing?",
        "Accords entre métiers",
        "Pas entendus ce tour-ci",
        "Question de suivi suggérée",
    ):
        assert heading in fr
    for heading in (
        "Shared across professions",
        "What sets each profession apart",
        "Agreement across professions",
        "Not heard this round",
        "Suggested follow-up question",
    ):
        assert heading in en
    assert "7 sur 17, contre 0 sur 100 ailleurs" in fr
    assert "7 of 17 of them, 0 of 100 elsewhere" in en
    # Quotes stay in their language.
    assert LONG.split(",")[0] in en


def test_member_text_is_escaped_and_small_groups_anonymous() -> None:
    d = big_digest(1)
    sneaky = an.Quote("@everyone **bold** <@123>", "en", "", answer="x")
    d = dataclasses.replace(
        d,
        shared=(dataclasses.replace(d.shared[0], label="*label*", quote=sneaky),),
        distinctive=(),
        sub_questions=(),
        agreement=(),
    )
    md = render.markdown(d, translator("en"), title="Digest")
    assert "@everyone" not in md and "**bold**" not in md and "<@123>" not in md
    assert "\\*label\\*" in md
    assert "— *a member*" in md


def test_chart_is_a_png() -> None:
    png = render.chart_png(big_digest(1), translator("fr"))
    assert png.startswith(b"\x89PNG") and len(png) > 1000
