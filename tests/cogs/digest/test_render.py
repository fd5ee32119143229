"""Rendering: within each platform's limits, cut only between entries, headings translated."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

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
    assert "7 of 17, compared with 0 of 100 elsewhere" in en
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


# ---------------------------------------------------------------- the follow-up question


def _with_follow_up(kind: str, label: str = "", profession: str = "") -> an.Digest:
    return dataclasses.replace(big_digest(1), follow_up=an.FollowUp(kind, label, profession))


def test_follow_up_question_quotes_the_theme_as_a_phrase_in_both_languages() -> None:
    fr, en = translator("fr"), translator("en")
    label = "Faux comptes et haine en ligne"
    missing = _with_follow_up("missing", label)
    assert render.follow_up_question(missing, fr) == (
        "Vous êtes nombreux à regretter un manque : « Faux comptes et haine en ligne ». "
        "Qu’est-ce qui vous aiderait concrètement ?"
    )
    assert render.follow_up_question(missing, en) == (
        "Many of you said this is missing: “Faux comptes et haine en ligne”. "
        "What would concretely help you?"
    )
    distinctive = _with_follow_up("distinctive", "Secret médical", "nurse")
    assert render.follow_up_question(distinctive, fr).startswith(
        "Côté Infirmier / Infirmière, « Secret médical » revient bien plus souvent qu’ailleurs."
    )
    assert render.follow_up_question(distinctive, en).startswith(
        "Among Nurse members, “Secret médical” comes up far more often than elsewhere."
    )
    shared = _with_follow_up("shared", "Visibility of small businesses.\n")
    assert render.follow_up_question(shared, en) == (
        "“Visibility of small businesses” comes up across professions. "
        "What has already worked for you?"
    )
    not_heard = _with_follow_up("not_heard", profession="judge")
    assert "Magistrat / Magistrate" in render.follow_up_question(not_heard, fr)
    for kind in ("missing", "distinctive", "shared", "not_heard", "generic"):
        for t in (fr, en):
            question = render.follow_up_question(_with_follow_up(kind, label, "nurse"), t)
            assert question.endswith("?") and "{" not in question
    # A theme without a label never yields an empty quote.
    assert "«  »" not in render.follow_up_question(_with_follow_up("shared", ""), fr)


def test_the_public_digest_never_tells_hosts_how_to_add_the_question() -> None:
    d = big_digest(2)
    for t in (translator("fr"), translator("en")):
        question = render.follow_up_question(d, t)
        md = render.markdown(d, t, title="Synthèse")
        assert render.escape(question) in md
        assert "prompt add" not in md and "Hôtes" not in md and "Hosts" not in md
        hint = render.host_hint(question, t, prefix="!")
        assert f"`!prompt add {question}`" in hint


# ---------------------------------------------------------------- the chart


def _participation_digest(professions: int = 4) -> an.Digest:
    keys = ["nurse", "lawyer", "baker", "architect", "judge", "teacher"][:professions]
    participation = an.Participation(
        answers=100,
        comments=30,
        reactions=214,
        members=80,
        # By answers: nurse first; by answers and comments: architect first.
        by_profession=dict(zip(keys, [40, 30, 20, 10, 5, 5], strict=False)),
        authors_by_profession={},
        by_language={"fr": 60, "en": 40},
        comments_by_profession={"architect": 35, "lawyer": 1, "baker": 10},
    )
    return dataclasses.replace(big_digest(1), participation=participation)


def test_chart_bars_are_sorted_by_answers_and_comments() -> None:
    rows = render.chart_rows(_participation_digest(), translator("fr"))
    assert [(r.label, r.total) for r in rows] == [
        ("Architecte", 45),
        ("Infirmier / Infirmière", 40),
        ("Avocat / Avocate", 31),
        ("Boulanger / Boulangère, pâtissier", 30),
    ]


def test_chart_title_names_the_round_and_its_date() -> None:
    fr, en = translator("fr"), translator("en")
    assert (
        render.chart_title(fr, number=3, day="12 janvier 2026")
        == "Participation par métier — tour n°3, 12 janvier 2026"
    )
    assert render.chart_title(en, number=3) == "Participation by profession — round #3"
    assert render.chart_title(en) == "Participation by profession"


def _pixels(png: bytes) -> np.ndarray[Any, Any]:
    import io

    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")


def test_chart_is_an_opaque_png_readable_on_light_and_dark_themes() -> None:
    from matplotlib.colors import to_rgb

    png = render.chart_png(_participation_digest(), translator("fr"), number=2, day="5 janv.")
    assert png.startswith(b"\x89PNG")
    pixels = np.asarray(_pixels(png))
    height, width, channels = pixels.shape
    assert width == 800 and 250 <= height <= 600
    # Opaque everywhere: a transparent chart shows the chat's own background behind black text.
    assert channels == 3 or float(pixels[..., 3].min()) == 1.0
    corner = tuple(round(float(c), 2) for c in pixels[0, 0, :3])
    assert corner == tuple(round(c, 2) for c in to_rgb(render.CHART_BACKGROUND))
    # The text and both bar colours are drawn, and contrast with the background.
    rgb = (pixels[..., :3] * 255).round().astype(int)
    for colour, ratio in (
        (render.CHART_TEXT, 7.0),
        (render.CHART_ANSWERS, 4.5),
        (render.CHART_COMMENTS, 2.5),
    ):
        wanted = np.array([round(c * 255) for c in to_rgb(colour)])
        assert (np.abs(rgb - wanted).sum(axis=-1) <= 6).sum() > 50, colour
        assert _contrast(colour, render.CHART_BACKGROUND) >= ratio, colour


def _contrast(a: str, b: str) -> float:
    from matplotlib.colors import to_rgb

    def luminance(colour: str) -> float:
        channels = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)
        ]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _professions(count: int) -> an.Digest:
    keys = [f"custom:Métier numéro {i}" for i in range(count)]
    participation = dataclasses.replace(
        big_digest(1).participation, by_profession={k: 40 - i for i, k in enumerate(keys)}
    )
    return dataclasses.replace(big_digest(1), participation=participation)


def test_chart_grows_with_the_professions_and_caps_them() -> None:
    t = translator("en")

    def height(d: an.Digest) -> int:
        return int(_pixels(render.chart_png(d, t)).shape[0])

    assert len(render.chart_rows(_professions(40), t)) == 40
    assert height(_professions(2)) < height(_professions(10)) < height(_professions(40))
    assert height(_professions(40)) == height(_professions(render.CHART_ROWS))  # capped
    empty = dataclasses.replace(
        big_digest(1),
        participation=an.Participation(0, 0, 0, 0, {}, {}, {}),
    )
    assert render.chart_png(empty, translator("fr")).startswith(b"\x89PNG")
