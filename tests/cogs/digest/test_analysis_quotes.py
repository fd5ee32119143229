"""The quote under a theme says what its title says (#14): a reader looks for the title's words
in the quote. On the planted English round, with the bundled encoder."""

from __future__ import annotations

from pathlib import Path

from cogs.digest import analysis as an
from cogs.digest import clustering, model
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
