"""The quote under a theme says what its title says (#14): a reader looks for the title's words
in the quote. On the planted English round, with the bundled encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogs.digest import analysis as an
from cogs.digest import clustering, demo, model
from cogs.digest.cli import read_answers
from cogs.rounds.bank import seeds

DATA = Path(__file__).parent / "data"


def _content(text: str) -> set[str]:
    return clustering.terms(text)


def test_a_theme_is_quoted_by_a_sentence_that_says_its_title(encoder: model.Encoder) -> None:
    answers, problems = read_answers(DATA / "planted_en.jsonl")
    assert not problems
    vectors, _ = clustering.embed_answers(answers, encoder=encoder)
    founding = seeds()["founding"]["en"]
    digest = an.analyse(
        founding.text, answers, vectors, sub_questions=list(founding.subs), locale="en"
    )
    shown = [
        *digest.shared[: an.SHOWN_SHARED],
        *(d.theme for d in digest.distinctive[: an.SHOWN_DISTINCTIVE]),
    ]
    said = [t for t in shown if _content(t.label) <= _content(t.quote.text)]
    # The most central sentence alone said its theme's title for 4 of these 11 themes.
    assert len(said) >= 0.8 * len(shown), [(t.label, t.quote.text) for t in shown]


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_what_is_missing_is_titled_by_what_its_members_say(
    encoder: model.Encoder, locale: str
) -> None:
    # The demo's round: its lack "Groupes Facebook" / "Facebook group" was quoted by "j'aimerais
    # pouvoir échanger avec les agriculteurs et les restaurateurs du coin…".
    answers = [
        model.AnswerIn(id=str(n), profession=a.profession, text=a.text, lang=a.lang, author=f"m{n}")
        for n, a in enumerate(demo.load())
        if "courtesy" not in a.plants
    ]
    vectors, _ = clustering.embed_answers(answers, encoder=encoder)
    founding = seeds()["founding"][locale]
    digest = an.analyse(
        founding.text, answers, vectors, sub_questions=list(founding.subs), locale=locale
    )
    themes = [t for s in digest.sub_questions for t in s.themes]
    assert themes, digest.sub_questions
    for theme in themes:
        assert _content(theme.label) <= _content(theme.quote.text), (theme.label, theme.quote)
