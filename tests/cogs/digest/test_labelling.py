"""Theme labels: phrases an answer contains, in the digest's language, as an editor would title."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from cogs.digest import analysis as an
from cogs.digest import clustering, labelling, model

CORPUS = Path(__file__).parent / "data" / "label_corpus.jsonl"
#: Words a label may not start or end on (the test's own list, not the labeller's).


def _split(text: str) -> list[str]:
    return text.split()


DANGLING = frozenset(
    _split(
        "de des du d' la le les l' un une et ou à au aux en pour par sur avec sans dans "
        "the a an of and or to for in on with without by at from"
    )
)
ENGLISH_ONLY = frozenset(_split("copied without credit reposted fake accounts keep posting"))


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lowercase words, split at French elisions, punctuation dropped."""
    out = []
    for raw in fold(text).replace("'", "' ").split():
        word = raw.strip('.,;:!?()«»"“”…')
        if word:
            out.append(word)
    return out


def contiguous_in(label: str, sentences: list[str]) -> bool:
    needle = f" {' '.join(words(label))} "
    return any(needle in f" {' '.join(words(s))} " for s in sentences)


def assert_phrase(label: str, sentences: list[str]) -> None:
    """A title: 2-6 words, capitalised, no comma, no repeat, no dangling word, in a sentence."""
    ws = words(label)
    assert "," not in label, label
    assert label[:1].isupper(), label
    assert 2 <= len(label.split()) <= 6, label
    assert len(set(ws)) == len(ws), label
    assert ws[0] not in DANGLING and ws[-1] not in DANGLING, label
    assert contiguous_in(label, sentences), f"{label!r} is not written in any of its sentences"


def label(groups: list[list[tuple[str, str]]], locale: str) -> list[str]:
    found = labelling.phrase_labels(groups, locale, [g[0][0] for g in groups])
    return [x.text if x else "" for x in found]


# Three themes of one round, so that distinctiveness has something to be measured against.
FAKE_FR = [
    ("Les faux comptes et les messages haineux restent en ligne malgré nos signalements.", "fr"),
    ("J'ai signalé des dizaines de faux comptes qui insultaient mes clients.", "fr"),
    ("Des faux comptes d'élèves publient des messages haineux contre les professeurs.", "fr"),
    ("Un faux compte a publié des avis haineux sur ma boulangerie.", "fr"),
]
PAY_FR = [
    ("Sans payer de publicité, plus personne ne voit mes publications.", "fr"),
    ("Il faut désormais payer pour être vu, même par ses propres abonnés.", "fr"),
    ("Mes abonnés ne voient plus rien si je ne paie pas pour être vu.", "fr"),
    ("La portée de nos publications a chuté depuis que tout est payant.", "fr"),
]
COPIED_MIXED = [
    ("Mes plans ont été copiés sans crédit par un autre cabinet.", "fr"),
    ("My renderings get copied and reposted without credit all the time.", "en"),
    ("I found my photos copied on a competitor's website without credit.", "en"),
    ("Mes photos sont reprises et copiées sans crédit par des comptes anonymes.", "fr"),
    ("Designs copied without credit, again and again.", "en"),
]
FAKE_EN = [
    ("Fake accounts keep posting hateful messages under our videos.", "en"),
    ("I reported dozens of fake accounts and none was removed.", "en"),
    ("Hateful messages from fake accounts stay online for weeks.", "en"),
    ("Fake accounts flood every post about vaccines with hateful messages.", "en"),
]
PAY_EN = [
    ("You have to pay to be seen, organic reach is gone.", "en"),
    ("Without paying for ads nobody sees my posts any more.", "en"),
    ("The platform wants me to pay to be seen by my own followers.", "en"),
    ("Reach dropped unless we pay for every post.", "en"),
]


def test_french_themes_are_named_with_french_phrases() -> None:
    labels = label([FAKE_FR, PAY_FR, COPIED_MIXED], "fr")
    for name, group in zip(labels, [FAKE_FR, PAY_FR, COPIED_MIXED], strict=True):
        assert_phrase(name, [text for text, lang in group if lang == "fr"])
    assert "faux" in words(labels[0]) and "comptes" in words(labels[0])
    assert "payer" in words(labels[1])


def test_english_themes_are_named_with_english_phrases() -> None:
    labels = label([FAKE_EN, PAY_EN, COPIED_MIXED], "en")
    for name, group in zip(labels, [FAKE_EN, PAY_EN, COPIED_MIXED], strict=True):
        assert_phrase(name, [text for text, lang in group if lang == "en"])
    assert {"fake", "accounts"} <= set(words(labels[0]))
    assert "copied" in words(labels[2])


def test_a_mixed_theme_in_a_french_digest_takes_no_english_word() -> None:
    # Three English sentences say "copied without credit", two French ones "copiés sans crédit":
    # the keyword bag said "without credit, copied"; the label comes from the French sentences.
    name = label([FAKE_FR, PAY_FR, COPIED_MIXED], "fr")[2]
    assert not set(name.lower().split()) & ENGLISH_ONLY, name
    assert {"copies", "credit"} <= {fold(w) for w in words(name)}, name


def test_an_english_word_inside_a_french_sentence_is_not_the_label() -> None:
    # "reposted" is written in a French sentence, but the round writes it in English ones too.
    reposted = [
        ("Mes rendus reposted partout, sans crédit.", "fr"),
        ("Encore des rendus reposted par des inconnus.", "fr"),
        ("Des rendus reposted sans accord, des plans d'architecte volés.", "fr"),
        ("They reposted my work, then reposted it again.", "en"),
        ("My plans were reposted by an agency.", "en"),
        ("Everything I make gets reposted.", "en"),
    ]
    name = label([FAKE_FR, PAY_FR, reposted], "fr")[2]
    assert "reposted" not in words(name), name  # "Rendus reposted" without the check
    assert_phrase(name, [text for text, lang in reposted if lang == "fr"])


def test_a_theme_without_a_sentence_in_the_digest_language_is_named_in_its_own() -> None:
    labels = label([FAKE_FR, PAY_FR, FAKE_EN], "fr")
    assert_phrase(labels[2], [text for text, _ in FAKE_EN])
    assert {"fake", "accounts"} <= set(words(labels[2]))


def test_no_word_twice_even_when_answers_repeat_one() -> None:
    repeating = [
        ("Keep new, new, new tools online for the new members.", "en"),
        ("New tools online would keep new members around.", "en"),
        ("We need new tools online, new ideas, new people.", "en"),
    ]
    name = label([FAKE_EN, PAY_EN, repeating], "en")[2]
    ws = words(name)
    assert len(ws) == len(set(ws)), name
    assert_phrase(name, [text for text, _ in repeating])


def _source_lines(section: str) -> list[tuple[str, str]]:
    """The hand-written lines of one section of the planted corpora's source."""
    lines, inside = [], False
    for line in (CORPUS.parent / "planted_source.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("=="):
            inside = line == f"== {section}"
        elif inside and line.strip() and not line.startswith("#"):
            lines.append((line.removeprefix("~ "), section.rsplit(" ", 1)[1]))
    return lines


def test_a_theme_all_about_one_word_is_still_named_with_a_phrase() -> None:
    # Forty ways of saying "it takes time": the old scorer named the theme "Temps".
    time = _source_lines("fr time fr")
    name = label([FAKE_FR, PAY_FR, time], "fr")[2]
    assert len(name.split()) >= 2, name
    assert "temps" in words(name)
    assert_phrase(name, [text for text, _ in time])


def test_a_label_does_not_stop_between_fake_and_its_noun() -> None:
    # The demo's journalists: "Verifying sources and debunking fake" was the label.
    debunking = [
        ("Verifying sources and debunking fake videos takes more time than reporting.", "en"),
        ("Debunking fake rumours about our newsroom eats my week.", "en"),
        ("I keep debunking fake claims that spread faster than our corrections.", "en"),
    ]
    name = label([FAKE_EN, PAY_EN, debunking], "en")[2]
    assert words(name)[-1] != "fake", name
    assert_phrase(name, [text for text, _ in debunking])


def test_the_inline_phrase_keeps_a_name_but_not_the_sentence_capital() -> None:
    groups = [
        [
            ("Instagram stories bring new customers every weekend.", "en"),
            ("Our Instagram stories bring customers in.", "en"),
            ("Customers discover us through Instagram stories.", "en"),
        ],
        [
            ("Local groups bring customers to the farm.", "en"),
            ("Local groups are where people find us.", "en"),
            ("We post in local groups every week.", "en"),
        ],
        FAKE_EN,
    ]
    found = labelling.phrase_labels(groups, "en")
    assert found[0] is not None and found[1] is not None
    assert found[0].phrase.startswith("Instagram"), found[0]
    assert found[1].text.startswith("Local groups") and found[1].phrase.startswith("local"), found[
        1
    ]


def assert_coordinated(label: str, sentence: str, dropped: set[str]) -> None:
    """A phrase of ``sentence`` less only ``dropped`` words, each right after "et"/"and"; the
    quote showing ``sentence`` still holds every word of it."""
    ws, source = words(label), words(sentence)
    assert_phrase(label, [" ".join(w for w in source if w not in dropped)])
    start = source.index(ws[0])
    span = source[start : source.index(ws[-1], start) + 1]
    gone = [w for w in span if w not in ws]
    assert gone and set(gone) <= dropped, (label, gone)
    assert all(span[span.index(w) - 1] in {"et", "and"} | dropped for w in gone), label
    assert clustering.terms(label) <= clustering.terms(sentence), label


def test_a_coordinated_french_label_drops_what_repeats_after_et() -> None:
    pupils = [
        ("Je reçois des messages privés des élèves et de leurs parents.", "fr"),
        ("Je refuse les invitations des élèves et de leurs parents.", "fr"),
        ("Les élèves et leurs parents me suivent partout.", "fr"),
    ]
    local = [
        ("J'aimerais échanger avec les agriculteurs et les restaurateurs du coin.", "fr"),
        ("Un espace commun pour les agriculteurs et les restaurateurs du coin.", "fr"),
        ("Les agriculteurs et les restaurateurs du coin se connaissent à peine.", "fr"),
    ]
    names = label([pupils, local, FAKE_FR, PAY_FR], "fr")
    assert names[:2] == ["Élèves et parents", "Agriculteurs et restaurateurs du coin"], names
    assert_coordinated(names[0], pupils[0][0], {"de", "leurs"})
    assert_coordinated(names[1], local[0][0], {"les"})


def test_a_coordinated_english_label_drops_the_repeated_article() -> None:
    kitchen = [
        ("I would like a forum with farmers and the cooks.", "en"),
        ("We should meet farmers and the cooks more often.", "en"),
        ("Selling to farmers and the cooks is hard.", "en"),
    ]
    name = label([kitchen, FAKE_EN, PAY_EN], "en")[0]
    assert name == "Farmers and cooks", name
    assert_coordinated(name, kitchen[0][0], {"the"})


def test_an_english_label_never_opens_on_a_finite_verb() -> None:
    # The demo's teachers and plumbers: "Takes time" was the label.
    chores = [
        ("Posting photos of my jobs takes time I would rather spend working.", "en"),
        ("Preparing posts for the school page also takes time I don't have.", "en"),
        ("Editing videos takes time every evening.", "en"),
    ]
    name = label([chores, FAKE_EN, PAY_EN], "en")[0]
    assert "takes" not in words(name), name
    assert_phrase(name, [text for text, _ in chores])


def test_fallback_label_drops_dangling_words() -> None:
    assert labelling.fallback_label("Des idées pour la suite de") == "Des idées pour la suite"
    assert labelling.fallback_label("ok") == "Ok"


# ---------------------------------------------------------------- the label corpus


def corpus() -> dict[str, list[dict[str, Any]]]:
    rounds: dict[str, list[dict[str, Any]]] = {}
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        theme = json.loads(line)
        rounds.setdefault(theme["round"], []).append(theme)
    return rounds


def content(text: str) -> set[str]:
    """Content words, folded, a plural -s/-x dropped (a crude lemma of the test's own)."""
    out = set()
    for w in words(text):
        if w in DANGLING or len(w) < 3 or w.endswith("'"):
            continue
        out.add(w[:-1] if len(w) > 3 and w[-1] in "sx" else w)
    return out


def judged_good(name: str, theme: dict[str, Any], locale: str) -> bool:
    """A phrase of the theme's sentences in the digest's language sharing a word with a title."""
    own = [s["text"] for s in theme["sentences"] if s["lang"] == locale]
    pool = own or [s["text"] for s in theme["sentences"]]
    try:
        assert_phrase(name, pool)
    except AssertionError:
        return False
    titles = [theme["reference"], *theme["acceptable"]]
    return any(content(name) & content(title) for title in titles)


def test_the_corpus_is_what_the_benchmark_says() -> None:
    rounds = corpus()
    themes = [t for ts in rounds.values() for t in ts]
    assert len(themes) >= 30
    assert {t["locale"] for t in themes} == {"fr", "en"}
    assert len({s["profession"] for t in themes for s in t["sentences"]}) >= 8
    assert all(4 <= len(t["sentences"]) <= 12 for t in themes)
    assert all(2 <= len(t["acceptable"]) <= 3 for t in themes)


def test_at_least_85_percent_of_corpus_labels_are_good_phrases() -> None:
    # The keyword bag before #14 scores 0 here (a comma list is no phrase); so would any label
    # not written in the theme's own sentences in the digest's language.
    good, bag, total = 0, 0, 0
    for themes in corpus().values():
        locale = themes[0]["locale"]
        groups = [[(s["text"], s["lang"]) for s in t["sentences"]] for t in themes]
        quotes = [t["sentences"][0]["text"] for t in themes]
        names = labelling.phrase_labels(groups, locale, quotes)
        words_of = labelling.keywords([[s["text"] for s in t["sentences"]] for t in themes])
        for theme, name, kw in zip(themes, names, words_of, strict=True):
            total += 1
            good += name is not None and judged_good(name.text, theme, locale)
            bag += judged_good(", ".join(kw), theme, locale)
    assert good / total >= 0.85, f"{good} of {total} labels are good phrases"
    assert bag / total < 0.85


# ---------------------------------------------------------------- in a digest


def answers() -> list[model.AnswerIn]:
    rows = [
        *(("nurse", text, lang) for text, lang in FAKE_FR[:2]),
        *(("lawyer", text, lang) for text, lang in FAKE_FR[2:]),
        *(("teacher", text, lang) for text, lang in FAKE_EN),
        *(("baker", text, lang) for text, lang in PAY_FR),
        *(("farmer", text, lang) for text, lang in PAY_EN),
        *(("architect", text, lang) for text, lang in COPIED_MIXED),
    ]
    return [
        model.AnswerIn(id=str(i), profession=p, text=text, lang=lang, author=f"m{i}")
        for i, (p, text, lang) in enumerate(rows)
    ]


@pytest.fixture(scope="module")
def vectors(encoder: model.Encoder) -> dict[str, model.Vectors]:
    found, _ = clustering.embed_answers(answers(), encoder=encoder)
    return found


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_digest_labels_are_phrases_of_the_theme_in_the_circle_language(
    vectors: dict[str, model.Vectors], locale: str
) -> None:
    items = answers()
    d = an.analyse("Q", items, vectors, locale=locale)
    themes = [*d.shared, *(x.theme for x in d.distinctive)]
    assert themes, "the sample has themes"
    for theme in themes:
        own = [a.text for a in items if a.lang == locale]
        assert_phrase(theme.label, own)
        assert theme.label != ", ".join(theme.keywords)
        assert theme.keywords, "keywords stay for the exports"
