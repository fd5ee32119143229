"""The analysis on a labelled sample: planted shared and distinctive themes come out as such."""

from __future__ import annotations

import numpy as np
import pytest

from cogs.digest import analysis as an
from cogs.digest import clustering, labelling, language, model

# (profession, lang, planted theme, text)
SAMPLE = [
    # Harassment: planted as shared, in both languages, across five professions.
    (
        "nurse",
        "fr",
        "harass",
        "Les commentaires haineux et les insultes sous nos vidéos m'ont blessée.",
    ),
    (
        "nurse",
        "en",
        "harass",
        "I received insults and hateful comments after a post about vaccines.",
    ),
    (
        "lawyer",
        "fr",
        "harass",
        "J'ai reçu des insultes et des messages agressifs après un commentaire.",
    ),
    ("lawyer", "en", "harass", "Trolls flooded my posts with abusive and insulting comments."),
    ("farmer", "fr", "harass", "Des militants ont inondé ma page de commentaires insultants."),
    ("farmer", "en", "harass", "People posted hateful insults under my photos of the farm."),
    (
        "baker",
        "fr",
        "harass",
        "Une campagne d'insultes a visé ma boulangerie dans les commentaires.",
    ),
    ("baker", "en", "harass", "Someone started a hate campaign with insults in my comments."),
    (
        "architect",
        "en",
        "harass",
        "A debate turned into insults and personal attacks in the comments.",
    ),
    # Copied designs: planted as distinctive to architects (4 of 6).
    (
        "architect",
        "fr",
        "copy",
        "Mes plans et mes rendus ont été copiés sans crédit par un autre cabinet.",
    ),
    (
        "architect",
        "en",
        "copy",
        "My renderings get copied and reposted without credit all the time.",
    ),
    (
        "architect",
        "fr",
        "copy",
        "Un promoteur a repris mes perspectives 3D sans me citer ni me créditer.",
    ),
    (
        "architect",
        "en",
        "copy",
        "I found my project photos copied on a competitor's website without credit.",
    ),
    ("architect", "fr", "other", "J'utilise Instagram pour montrer mes chantiers terminés."),
    # Background answers (no planted theme), so professions have enough authors.
    ("nurse", "fr", "other", "Je suis d'autres infirmières pour apprendre de nouveaux protocoles."),
    ("nurse", "en", "other", "My patients find my practice through my Facebook page."),
    ("lawyer", "fr", "other", "LinkedIn m'apporte des clients entreprises."),
    ("lawyer", "en", "other", "I follow new case law shared by colleagues."),
    ("farmer", "fr", "other", "Je vends mes légumes en direct grâce à Facebook."),
    ("farmer", "en", "other", "Customers order vegetable boxes from our group."),
    ("baker", "fr", "other", "Je poste chaque matin la photo de la fournée du jour."),
    ("baker", "en", "other", "Stories of fresh bread bring new customers every weekend."),
    # A lone judge: too small a group to be named next to content.
    (
        "judge",
        "fr",
        "harass",
        "Des insultes et des menaces en commentaires après un jugement médiatisé.",
    ),
]


def answers() -> list[model.AnswerIn]:
    return [
        model.AnswerIn(id=str(i), profession=p, text=text, lang=lang, author=f"m{i}")
        for i, (p, lang, _, text) in enumerate(SAMPLE)
    ]


@pytest.fixture(scope="module")
def vectors(encoder: model.Encoder) -> dict[str, model.Vectors]:
    found, fresh = clustering.embed_answers(answers(), encoder=encoder)
    assert set(found) == set(fresh)
    return found


@pytest.fixture(scope="module")
def digest(vectors: dict[str, model.Vectors]) -> an.Digest:
    return an.analyse(
        "How do you use social networks?",
        answers(),
        vectors,
        sub_questions=["How do you use them?", "What is missing?", "What disappointed you?"],
        expected=["nurse", "lawyer", "farmer", "baker", "architect", "judge", "teacher"],
        locale="en",
    )


def planted(theme: str) -> set[str]:
    return {text for _, _, p, text in SAMPLE if p == theme}


def quotes_and_sentences(d: an.Digest) -> list[an.Quote]:
    return [
        *(t.quote for t in d.shared),
        *(x.theme.quote for x in d.distinctive),
        *(t.quote for s in d.sub_questions for t in s.themes),
        *(a.quote for a in d.agreement),
    ]


def test_a_bilingual_shared_theme_comes_out_as_one_shared_theme(
    vectors: dict[str, model.Vectors],
) -> None:
    items = answers()
    texts = [s for a in items for s in language.sentences(a.text)]
    matrix = np.concatenate([vectors[a.id] for a in items])
    labels = clustering.cluster(matrix)
    harass = {labels[texts.index(t)] for t in planted("harass")}
    assert len(harass) == 1, "French and English harassment answers split into several themes"


def test_shared_theme_ranked_first_with_both_languages(digest: an.Digest) -> None:
    assert digest.shared, "no shared theme"
    top = digest.shared[0]
    assert top.author_count >= 9
    assert {"fr", "en"} <= set(top.langs)
    assert {"nurse", "lawyer", "farmer", "baker"} <= set(top.authors)
    assert top.quote.text in {t for _, _, _, t in SAMPLE}


def test_planted_profession_theme_is_distinctive_to_it(digest: an.Digest) -> None:
    mine = [x for x in digest.distinctive if x.profession == "architect"]
    assert mine, f"no distinctive theme for architects: {digest.distinctive}"
    x = mine[0]
    assert (x.authors, x.total) == (4, 6)
    assert x.elsewhere == 0 and x.share_elsewhere == 0
    assert x.theme.quote.text in planted("copy")
    assert x.theme.quote.profession == "architect"
    # Nobody else is distinctive: the other themes are shared or too small.
    assert {d.profession for d in digest.distinctive} == {"architect"}


def test_small_groups_are_never_named_next_to_content(digest: an.Digest) -> None:
    for q in quotes_and_sentences(digest):
        assert q.profession != "judge"
        if q.profession and q.profession != an.OTHER:  # the lone judge is "other professions"
            assert digest.participation.authors_by_profession[q.profession] >= an.MIN_GROUP
    for x in digest.distinctive:
        assert x.authors >= an.MIN_GROUP


def test_not_heard_and_participation(digest: an.Digest) -> None:
    assert digest.not_heard == ("teacher",)
    p = digest.participation
    assert p.answers == len(SAMPLE)
    assert p.by_language == {"fr": 12, "en": 11}
    assert p.by_profession["architect"] == 6


def test_sub_question_themes_use_what_members_say_is_missing(encoder: model.Encoder) -> None:
    texts = [
        ("nurse", "Il me manque un espace pour échanger avec d'autres métiers."),
        ("lawyer", "What is missing is a place to talk with other professions."),
        ("baker", "Il manque un lieu où parler avec les autres métiers du quartier."),
        ("farmer", "I wish there were a space to talk with other trades."),
        ("nurse", "J'ai été déçue par les algorithmes qui cachent nos publications."),
        ("lawyer", "I was disappointed that the algorithm buries my posts."),
        ("baker", "Je suis déçu : l'algorithme ne montre plus mes publications."),
    ]
    items = [
        model.AnswerIn(id=str(i), profession=p, text=t, author=f"m{i}")
        for i, (p, t) in enumerate(texts)
    ]
    vectors, _ = clustering.embed_answers(items, encoder=encoder)
    d = an.analyse(
        "Q", items, vectors, sub_questions=["Que vous manque-t-il ?", "Qu'est-ce qui vous a déçu ?"]
    )
    kinds = {s.kind: s for s in d.sub_questions}
    # Both are shared themes too: shown once, as shared themes that say so (see test_story.py).
    for kind, authors in (("missing", 4), ("disappointed", 3)):
        top = kinds[kind].merged[0]
        assert (top.section, top.rank, top.authors) == ("shared", 0, authors), kind
        assert not kinds[kind].themes
    assert d.follow_up.kind == "missing"


def test_agreement_needs_approval_from_several_professions(encoder: model.Encoder) -> None:
    items = [
        model.AnswerIn(
            "1",
            "nurse",
            "We need a shared space across professions.",
            "en",
            "a",
            approvals=("lawyer", "baker", "farmer"),
        ),
        model.AnswerIn(
            "2", "lawyer", "LinkedIn brings me clients.", "en", "b", approvals=("lawyer", "lawyer")
        ),
    ]
    vectors, _ = clustering.embed_answers(items, encoder=encoder)
    d = an.analyse("Q", items, vectors)
    assert [(a.approvals, a.professions) for a in d.agreement] == [(3, 3)]
    assert d.agreement[0].quote.answer == "1"


def test_cached_vectors_are_reused_only_for_unchanged_text(encoder: model.Encoder) -> None:
    calls: list[int] = []

    def counting(texts: object) -> model.Vectors:
        calls.append(len(texts))  # type: ignore[arg-type]
        return encoder(texts)  # type: ignore[arg-type]

    items = [
        model.AnswerIn("1", "nurse", "This is the first sentence. And here is a second sentence.")
    ]
    first, fresh = clustering.embed_answers(items, encoder=counting)
    cached = {"1": (language.text_hash(items[0].text), first["1"])}
    _, fresh = clustering.embed_answers(items, cached=cached, encoder=counting)
    assert fresh == {} and calls == [2]
    edited = [model.AnswerIn("1", "nurse", "An edited answer, one sentence only.")]
    _, fresh = clustering.embed_answers(edited, cached=cached, encoder=counting)
    assert list(fresh) == ["1"] and calls == [2, 1]


def test_digest_round_trips_through_plain_data(digest: an.Digest) -> None:
    assert an.from_dict(digest.as_dict()) == digest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One sentence only.", ["One sentence only."]),
        ("Yes. I use LinkedIn for clients. Ok!", ["Yes. I use LinkedIn for clients. Ok!"]),
        (
            "J'utilise LinkedIn pour mes clients. Il me manque un espace commun.",
            ["J'utilise LinkedIn pour mes clients.", "Il me manque un espace commun."],
        ),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert language.sentences(text) == expected


def test_language_and_question_kinds() -> None:
    assert language.guess_lang("Je ne peux pas parler de mes patients.") == "fr"
    assert language.guess_lang("I cannot talk about my patients with the public.") == "en"
    assert language.question_kind("Que vous manque-t-il ?") == "missing"
    assert language.question_kind("What disappointed you?") == "disappointed"
    assert language.question_kind("How do you use them?") == "other"
    assert language.cue_kinds("J'ai été déçue par Facebook") == {"disappointed"}


def test_keywords_name_what_a_theme_shares() -> None:
    names = labelling.keywords(
        [
            ["Open source on GitHub.", "GitHub open source projects.", "I love GitHub."],
            ["Patients and secrecy.", "Medical secrecy for patients.", "Patients first."],
        ]
    )
    assert "github" in names[0] and "patients" in names[1]
