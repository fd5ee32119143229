"""The planted-themes corpora are what their header says, and bench/digest_planted.py scores
digests on them by its stated rules (#14); its core runs on a slice (speed is never asserted)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cogs.digest import model
from cogs.digest.cli import read_answers
from cogs.digest.language import guess_lang

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "cogs" / "digest" / "data"


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench = _module("digest_planted_bench", ROOT / "bench" / "digest_planted.py")
builder = _module("planted_build", DATA / "planted_build.py")
heldout_builder = _module("heldout_build", DATA / "heldout_build.py")
fresh_builder = _module("fresh_build", DATA / "fresh_build.py")
time_builder = _module("time_build", DATA / "time_build.py")
begin_builder = _module("begin_build", DATA / "begin_build.py")
HEADER = json.loads((DATA / "planted_themes.json").read_text(encoding="utf-8"))
HELDOUT = json.loads((DATA / "heldout_themes.json").read_text(encoding="utf-8"))
FRESH = json.loads((DATA / "fresh_themes.json").read_text(encoding="utf-8"))
TIME = json.loads((DATA / "time_themes.json").read_text(encoding="utf-8"))
BEGIN = json.loads((DATA / "begin_themes.json").read_text(encoding="utf-8"))


def _lines(locale: str) -> list[dict[str, Any]]:
    path = DATA / f"planted_{locale}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _who_raised(
    answers: list[dict[str, Any]],
) -> tuple[dict[str, set[str]], dict[str, dict[str, set[str]]]]:
    """Authors by profession, and by planted theme the authors of each profession raising it."""
    authors: dict[str, set[str]] = defaultdict(set)
    raised: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for a in answers:
        authors[a["profession"]].add(a["author"])
        for theme in a["planted"]:
            raised[theme][a["profession"]].add(a["author"])
    return authors, raised


# ---------------------------------------------------------------- the corpora


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_corpus_is_a_round_of_the_shape_the_brief_asks_for(locale: str) -> None:
    answers = _lines(locale)
    read, problems = read_answers(DATA / f"planted_{locale}.jsonl")
    assert problems == [] and len(read) == len(answers)
    assert 250 <= len(answers) <= 350
    authors: dict[str, set[str]] = defaultdict(set)
    for a in answers:
        assert set(a) == {"author", "profession", "text", "planted"}
        authors[a["profession"]].add(a["author"])
    sizes = {p: len(v) for p, v in authors.items() if p}
    assert sum(15 <= n <= 50 for n in sizes.values()) >= 8, sizes
    assert authors[""], "some answers give no profession"
    other = sum(guess_lang(a["text"]) != locale for a in answers)
    assert 0.05 <= other / len(answers) <= 0.15, other
    assert sum(not a["planted"] for a in answers) >= 30, "background answers"
    assert len({a["text"] for a in answers}) == len(answers)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_planted_themes_are_raised_as_their_kind_says(locale: str) -> None:
    themes = {t["id"]: t for t in HEADER["themes"] if locale in t["corpora"]}
    kinds = Counter(t["kind"] for t in themes.values())
    assert 5 <= kinds["shared"] <= 7 and 6 <= kinds["distinctive"] <= 10
    answers = _lines(locale)
    authors, raised = _who_raised(answers)
    assert set(raised) <= set(themes), set(raised) - set(themes)
    everyone = sum(len(v) for v in authors.values())
    for theme, t in themes.items():
        assert 3 <= len(t["keywords"][locale]) <= 6 and t["title"]["fr"] and t["title"]["en"]
        by = raised[theme]
        if t["kind"] == "shared":
            rates = [len(by.get(p, ())) / len(v) for p, v in authors.items() if p]
            assert sum(r > 0 for r in rates) >= 4, theme
            assert max(rates) <= 2.5 * min(rates), (theme, rates)
        else:
            own = len(by[t["profession"]]) / len(authors[t["profession"]])
            rest = sum(len(v) for p, v in by.items() if p != t["profession"])
            assert own >= 0.4 and rest / (everyone - len(authors[t["profession"]])) <= 0.02


def test_corpora_are_what_the_builder_makes_of_the_hand_written_lines() -> None:
    for locale in ("fr", "en"):
        built = [{k: v for k, v in x.items() if k != "_lang"} for x in builder.build(locale)]
        assert built == _lines(locale), f"planted_{locale}.jsonl: rerun planted_build.py"


# ---------------------------------------------------------------- the held-out corpora


def _heldout(locale: str) -> list[dict[str, Any]]:
    path = DATA / f"heldout_{locale}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_heldout_corpus_is_a_round_on_another_question_with_its_own_professions(
    locale: str,
) -> None:
    answers = _heldout(locale)
    read, problems = read_answers(DATA / f"heldout_{locale}.jsonl")
    assert problems == [] and len(read) == len(answers) >= 200
    authors: dict[str, set[str]] = defaultdict(set)
    for a in answers:
        assert set(a) == {"author", "profession", "text", "planted"} and a["text"].strip()
        authors[a["profession"]].add(a["author"])
    sizes = {p: len(v) for p, v in authors.items() if p}
    assert sum(n >= 15 for n in sizes.values()) >= 8, sizes
    assert authors[""], "some answers give no profession"
    other = sum(guess_lang(a["text"]) != locale for a in answers)
    assert 0.03 <= other / len(answers) <= 0.15, other
    assert sum(not a["planted"] for a in answers) >= 30, "background answers"
    planted = {a["profession"] for a in _lines(locale)}
    assert len(set(sizes) - planted) >= 5, "mostly professions planted_* of its language lacks"
    assert HELDOUT["question"] != "founding"
    themes = {t["id"]: t for t in HELDOUT["themes"] if locale in t["corpora"]}
    for a in answers:
        assert set(a["planted"]) <= set(themes)
    raised = Counter(t for a in answers for t in a["planted"])
    assert all(raised[t] >= 11 for t in themes), raised


def test_heldout_corpora_are_what_their_builder_makes_of_the_hand_written_lines() -> None:
    module = heldout_builder.builder()
    for locale in ("fr", "en"):
        built = [
            {k: v for k, v in x.items() if k != "_lang"}
            for x in heldout_builder.build(locale, module)
        ]
        assert built == _heldout(locale), f"heldout_{locale}.jsonl: rerun heldout_build.py"


# ---------------------------------------------------------------- the fresh and blind corpora


def _read(name: str, locale: str) -> list[dict[str, Any]]:
    path = DATA / f"{name}_{locale}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


#: The corpora written later, each for a check nobody tuning the digest had seen (#14): its
#: header, its builder, the bank prompt it answers, its answers per round (one language's round
#: small, the other's large) and the corpora before it, whose professions it does not reuse.
LATER: dict[str, dict[str, Any]] = {
    "fresh": {
        "header": FRESH,
        "builder": fresh_builder,
        "question": "disconnect",
        "sizes": {"fr": (120, 160), "en": (280, 340)},
        "before": ("planted", "heldout"),
    },
    "time": {
        "header": TIME,
        "builder": time_builder,
        "question": "time",
        "sizes": {"fr": (280, 340), "en": (120, 160)},
        "before": ("planted", "heldout", "fresh"),
    },
    # Written at the same time as "time", by someone else: they share a few professions.
    "begin": {
        "header": BEGIN,
        "builder": begin_builder,
        "question": "beginners",
        "sizes": {"fr": (130, 170), "en": (260, 320)},
        "before": ("planted", "heldout", "fresh"),
    },
}
QUESTIONS = {"planted": "founding", "heldout": HELDOUT["question"], "fresh": FRESH["question"]}
LATER_ROUNDS = [(name, locale) for name in LATER for locale in ("fr", "en")]


@pytest.mark.parametrize(("name", "locale"), LATER_ROUNDS)
def test_later_corpus_is_a_round_on_its_own_question_with_new_professions(
    name: str, locale: str
) -> None:
    spec = LATER[name]
    answers = _read(name, locale)
    read, problems = read_answers(DATA / f"{name}_{locale}.jsonl")
    assert problems == [] and len(read) == len(answers)
    low, high = spec["sizes"][locale]
    assert low <= len(answers) <= high, len(answers)
    authors: dict[str, set[str]] = defaultdict(set)
    for a in answers:
        assert set(a) == {"author", "profession", "text", "planted"} and a["text"].strip()
        authors[a["profession"]].add(a["author"])
    sizes = {p: len(v) for p, v in authors.items() if p}
    assert sum(n >= 15 for n in sizes.values()) >= 8, sizes
    assert authors[""], "some answers give no profession"
    other = sum(guess_lang(a["text"]) != locale for a in answers)
    assert 0.03 <= other / len(answers) <= 0.15, other
    assert sum(not a["planted"] for a in answers) >= 0.12 * len(answers), "background answers"
    assert len({a["text"] for a in answers}) == len(answers)
    seen = {
        a["profession"]
        for before in spec["before"]
        for lang in ("fr", "en")
        for a in _read(before, lang)
        if a["profession"]
    }
    assert not set(sizes) & seen, f"professions none of {spec['before']} has"
    question = spec["header"]["question"]
    assert question == spec["question"]
    assert question not in {QUESTIONS[before] for before in spec["before"]}


@pytest.mark.parametrize(("name", "locale"), LATER_ROUNDS)
def test_later_planted_themes_are_raised_as_their_kind_says(name: str, locale: str) -> None:
    header = LATER[name]["header"]
    themes = {t["id"]: t for t in header["themes"] if locale in t["corpora"]}
    kinds = Counter(t["kind"] for t in themes.values())
    assert kinds["shared"] == 5 and 4 <= kinds["distinctive"] <= 6, kinds
    answers = _read(name, locale)
    authors, raised = _who_raised(answers)
    assert set(raised) <= set(themes), set(raised) - set(themes)
    everyone = sum(len(v) for v in authors.values())
    for theme, t in themes.items():
        assert 3 <= len(t["keywords"][locale]) <= 6 and t["title"]["fr"] and t["title"]["en"]
        by = raised[theme]
        if t["kind"] == "shared":
            rates = [len(by.get(p, ())) / len(v) for p, v in authors.items() if p]
            assert all(r > 0 for r in rates), (theme, rates)
            assert max(rates) <= 2.5 * min(rates), (theme, rates)
        else:
            owner = t["profession"]
            assert owner in authors, (theme, owner)
            own = len(by[owner]) / len(authors[owner])
            rest = sum(len(v) for p, v in by.items() if p != owner)
            assert own >= 0.4 and rest / (everyone - len(authors[owner])) <= 0.02, theme


@pytest.mark.parametrize("name", list(LATER))
def test_later_corpora_are_what_their_builder_makes_of_the_hand_written_lines(name: str) -> None:
    builder_ = LATER[name]["builder"]
    module = builder_.builder()
    # English first: a build does not depend on what the builder dealt before it.
    for locale in ("en", "fr"):
        built = [
            {k: v for k, v in x.items() if k != "_lang"} for x in builder_.build(locale, module)
        ]
        assert built == _read(name, locale), f"{name}_{locale}.jsonl: rerun {name}_build.py"


@pytest.mark.parametrize(("name", "locale"), LATER_ROUNDS)
def test_the_benchmark_reads_a_later_corpus_as_a_round_of_its_question(
    name: str, locale: str
) -> None:
    corpus = bench.load(f"{locale}-{name}")
    header = LATER[name]["header"]
    assert (corpus.locale, corpus.question) == (locale, LATER[name]["question"])
    assert len(corpus.answers) == len(_read(name, locale)) == len(corpus.planted)
    assert set(corpus.themes) == {t["id"] for t in header["themes"] if locale in t["corpora"]}
    assert all(set(p) <= set(corpus.themes) for p in corpus.planted.values())


# ---------------------------------------------------------------- the scoring rules


def _corpus() -> Any:
    keywords = {"fr": ["label"], "en": ["label"]}
    themes = {
        "time": {"id": "time", "kind": "shared", "profession": None, "keywords": keywords},
        "hate": {"id": "hate", "kind": "shared", "profession": None, "keywords": keywords},
        "secret": {
            "id": "secret",
            "kind": "distinctive",
            "profession": "nurse",
            "keywords": keywords,
        },
    }
    planted = {
        "1": ("time",),
        "2": ("time", "hate"),
        "3": ("time",),
        "4": ("hate",),
        "5": (),
        "6": ("secret",),
        "7": ("secret", "time"),
        "8": ("secret",),
    }
    return bench.Corpus("fr", [], planted, themes)


def _item(section: str, answers: list[str], profession: str = "") -> Any:
    return bench.Item(section, "Un label", "un, sac", profession, answers, [])


def test_an_item_is_right_once_per_planted_theme_of_its_kind() -> None:
    items = [
        _item("shared", ["1", "2", "3"]),  # time, 3 of 3
        _item("shared", ["1", "3", "5"]),  # time again: already matched
        _item("shared", ["2", "4", "5", "1"]),  # hate in 2 of 4: no majority
        _item("shared", ["6", "8"]),  # a distinctive theme among the shared ones
        _item("distinctive", ["6", "7", "8"], "lawyer"),  # secret, wrong profession
        _item("distinctive", ["6", "7", "8"], "nurse"),
    ]
    bench.score(items, _corpus())
    assert [i.right for i in items] == [True, False, False, False, False, True]
    assert [i.majority for i in items] == ["time", "time", "", "secret", "secret", "secret"]
    m = bench.measures(items, _corpus(), lambda i: i.label, {})
    assert (m["shared_right"], m["shared_total"]) == (1, 4)
    assert (m["distinctive_right"], m["distinctive_total"]) == (1, 2)
    assert (m["found"], m["found_anywhere"], m["planted"]) == (2, 2, 3)
    assert not bench.verdict(m)


def test_the_verdict_needs_85_percent_right_and_every_label_a_phrase() -> None:
    row = {
        "shared_right": 6,
        "shared_total": 7,
        "distinctive_right": 6,
        "distinctive_total": 7,
        "labels_language": 14,
        "labels_total": 14,
    }
    assert bench.verdict(row)
    assert not bench.verdict(row | {"shared_right": 5})
    assert not bench.verdict(row | {"labels_language": 13})
    # make bench reads the same verdicts from the budget line, one per figure.
    assert bench.budget_line("fr", row | {"shared_right": 5}) == (
        "fr shared right 71 % (budget ≥ 85 %: FAIL), "
        "fr distinctive right 86 % (budget ≥ 85 %: PASS), "
        "fr labels in the language 100 % (budget ≥ 100 %: PASS)"
    )


FR = [
    ("Impossible de parler de mes patients, le secret médical passe avant tout.", "fr"),
    ("Le secret médical s'applique aussi sur Facebook.", "fr"),
    ("I can never talk about my patients online, confidentiality comes first.", "en"),
]


def test_a_label_is_a_phrase_of_the_items_sentences_in_the_digests_language() -> None:
    counts = bench.word_counts(FR)
    assert bench.label_checks("Secret médical", FR, "fr", counts) == {
        "phrase": True,
        "language": True,
    }
    assert bench.label_checks("SECRET medical", FR, "fr", counts)["language"]  # case, accents
    for bag in ("secret, patients", "Secret", "Médical secret", "Parler de mes patients, le"):
        assert not bench.label_checks(bag, FR, "fr", counts)["phrase"], bag
    english = bench.label_checks("Confidentiality comes first", FR, "fr", counts)
    assert english == {"phrase": True, "language": False}
    assert bench.label_checks("Confidentiality comes first", FR, "en", counts)["language"]


def test_a_word_shared_by_both_languages_is_not_foreign_where_the_round_writes_it() -> None:
    round_ = [("Les fake news circulent plus vite que tout.", "fr"), ("Fake news again.", "en")]
    counts = bench.word_counts([*round_, ("Les fake news, encore.", "fr")])
    assert bench.label_checks("Fake news circulent", round_, "fr", counts)["language"]
    english = bench.word_counts([("Les fake news circulent.", "fr")] + [("fake news", "en")] * 3)
    assert not bench.label_checks("Fake news circulent", round_, "fr", english)["language"]


def test_on_topic_labels_hold_a_keyword_of_their_theme() -> None:
    theme = {"keywords": {"fr": ["secret médical", "patients"], "en": ["patients"]}}
    assert bench.on_topic("Le secret medical", theme, "fr")
    assert bench.on_topic("Mes patients", theme, "fr")
    assert not bench.on_topic("Le secret", theme, "fr")
    assert not bench.on_topic("Le secret médical", None, "fr")


# ---------------------------------------------------------------- the core, on a slice


@pytest.mark.parametrize("locale", ["fr", "en", "fr-heldout", "en-fresh"])
def test_the_benchmark_core_digests_and_scores_a_slice(locale: str, encoder: model.Encoder) -> None:
    seen: list[str] = []
    result = bench.run_corpus(locale, limit=80, encoder=encoder, progress=seen.append)
    assert result["answers"] == 80 and seen
    ids = {str(n) for n in range(1, 81)}
    shown = [i for i in result["items"] if i["shown"]]
    assert all(i["matched"] for i in result["items"]), "every item found its cluster"
    for item in result["items"]:
        assert item["answers"] and set(item["answers"]) <= ids
        assert item["sentences"] >= len(item["answers"])
    for key in ("digest", "baseline"):
        m = result[key]
        assert m["shared_total"] == sum(i["section"] == "shared" for i in shown)
        assert m["distinctive_total"] == sum(i["section"] == "distinctive" for i in shown)
        assert m["shared_right"] == sum(i["right"] for i in shown if i["section"] == "shared")
        assert m["labels_total"] == len(shown)
        assert m["found"] <= m["planted"] and m["unmatched_items"] == 0
    assert result["ranked"]["found_anywhere"] >= 1, "a planted theme behind some item"
    missed = {m["theme"] for m in result["missed"]}
    found = {i["majority"] for i in shown if i["right"]}
    assert len(missed) + len(found) == result["digest"]["planted"] and not missed & found
    assert all(0 <= m["most_in_one_theme"] <= m["answers"] for m in result["missed"])
    digest, baseline = result["digest"], result["baseline"]
    assert digest["shared_right"] == baseline["shared_right"]
    bags = [i for i in shown if "," in i["keywords"]]
    assert all(not i["checks"]["keywords"]["phrase"] for i in bags)
    assert isinstance(result["embed_s"], float) and result["sentences"] > 80
