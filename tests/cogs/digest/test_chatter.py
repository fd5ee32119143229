"""Thread small talk is left out of the themes: no digest is headed "Thanks for the question"."""

from __future__ import annotations

import pytest

from cogs.digest import analysis as an
from cogs.digest import clustering, model
from cogs.digest.chatter import is_chatter


@pytest.mark.parametrize(
    "sentence",
    [
        "Merci pour la question !",
        "Très bonne question, je vais y réfléchir.",
        "Désolée pour le retard, je répondrai plus tard.",
        "Super initiative ce cercle, bravo aux organisatrices",
        "Coucou tout le monde !",
        "+1, pareil",
        "Great question, thanks!",
        "Sorry I'm late to the thread.",
        "I'll come back to this later.",
        "Love this circle, thanks to the organisers 🙏",
        "Same here, totally agree.",
        "Hard to say.",
    ],
)
def test_small_talk_is_chatter(sentence: str) -> None:
    assert is_chatter(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        # One word of substance keeps the sentence: a member's point is never lost.
        "Merci pour la question, le téléphone d'astreinte me pourrit les soirées.",
        "Thanks for the question, the on-call phone is my problem.",
        # The round's subject is never small talk, even in warm words.
        "I love my job",
        "J'adore mon métier",
        "Now it's also where I work.",
        "Lire le soir.",
        "The information was wrong",
        # Long sentences say something even in small-talk words.
        "Sorry, sorry, sorry, thanks, thanks, great, great, great question, yes, yes, yes, ok, ok,"
        " well, sure, fine, lol, haha",
        "",
    ],
)
def test_a_sentence_with_substance_is_not_chatter(sentence: str) -> None:
    assert not is_chatter(sentence)


PROFESSIONS = ["nurse", "lawyer", "farmer", "baker"]
THANKS = [
    "Merci pour la question !",
    "Great question, thanks!",
    "Super initiative ce cercle, merci.",
    "Sorry I'm late to the thread.",
]
POINTS = [
    "Le téléphone pro sonne encore à 22 heures.",
    "My boss texts me late at night about tomorrow's schedule.",
    "Les mails du chef tombent pendant tout le week-end.",
    "Messages from clients keep coming on my phone every evening.",
]


def test_thanks_from_every_profession_make_no_theme_and_still_count(
    encoder: model.Encoder,
) -> None:
    answers = []
    for i, profession in enumerate(PROFESSIONS * 3):
        answers.append(model.AnswerIn(f"t{i}", profession, THANKS[i % len(THANKS)], author=f"t{i}"))
        answers.append(model.AnswerIn(f"p{i}", profession, POINTS[i % len(POINTS)], author=f"p{i}"))
    vectors, _ = clustering.embed_answers(answers, encoder=encoder)
    digest = an.analyse("Can you disconnect from your work?", answers, vectors, locale="en")
    themes = [*digest.shared, *(d.theme for d in digest.distinctive)]
    assert themes, "the points members made form a theme"
    quoted = {t.quote.text for t in themes}
    assert not quoted & set(THANKS)
    for theme in themes:
        assert theme.answers <= 12  # only the answers with a point behind each theme
    assert digest.participation.answers == 24  # the thanks are answers all the same
