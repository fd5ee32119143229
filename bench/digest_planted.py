"""Digest correctness on planted themes (#14): does the digest find what we wrote into a round?

Run it as ``.venv/bin/python bench/digest_planted.py [--corpus NAMES] [--limit N] [--items]
[--json]``, NAMES comma-separated among fr, en, fr-heldout, en-heldout, fr-fresh, en-fresh,
fr-time, en-time, fr-begin, en-begin (all by default). Progress goes to stderr.

The corpora are read as ``cercle digest --from-jsonl`` reads them and digested in-process as
a close does: the round's question and its sub-questions in the corpus's language, every
sentence embedded with the bundled encoder, :func:`cogs.digest.analysis.analyse`. They are
tests/cogs/digest/data/planted_fr.jsonl and planted_en.jsonl (built by planted_build.py from
the hand-written planted_source.txt, described by planted_themes.json; the founding
question), and the held-out heldout_fr.jsonl and heldout_en.jsonl (built by heldout_build.py
from heldout_source.txt, described by heldout_themes.json; the bank's "ai" prompt, other
professions, written after the digest's settings were chosen and never used to tune them),
and the fresh held-out fresh_fr.jsonl (a small round, ~150 answers) and fresh_en.jsonl (a
large one, ~300) (built by fresh_build.py from fresh_source.txt, described by
fresh_themes.json; the bank's "disconnect" prompt, professions of neither planted_* nor
heldout_*, written once heldout_* had been looked at while tuning, and seen by nobody tuning),
and the blind time_fr.jsonl (a large round, ~300 answers) and time_en.jsonl (a small one,
~150) (built by time_build.py from time_source.txt, described by time_themes.json; the bank's
"time" prompt, professions of none of planted_*, heldout_*, fresh_*, written once fresh_* had
been looked at while tuning, and seen by nobody tuning), and the blind begin_fr.jsonl (a small
round, ~150 answers) and begin_en.jsonl (a large one, ~300) (begin_build.py, begin_source.txt,
begin_themes.json; the bank's "beginners" prompt, written at the same time as time_* by
someone else, professions of none of planted_*, heldout_*, fresh_*).

A digest item is a shared theme or a theme distinctive to a profession, as the digest shows
them: the first ``SHOWN_SHARED`` (5) and ``SHOWN_DISTINCTIVE`` (6) of the analysis's ranked
lists, as the Markdown and HTML digests show them. The whole ranked lists (what the JSON and
CSV exports hold) are scored too, on a third row ("all ranked").

An item does not list the answers behind it, so the clustering is re-run beside it: the
bench wraps ``analysis.cluster`` for the run and keeps the theme number it gives each
sentence, then finds each item's cluster: the one holding its quoted sentence (of the quoted
answer), when its sentences, answers and authors number the item's. The answers behind an
item are those its sentences come from. Its *majority planted theme* is a theme carried (in
``planted``) by more than half of those answers; there is none when no theme is.
An item is right:

- shared: its majority theme is a planted shared theme no earlier shared item matched;
- distinctive: its majority theme is a planted distinctive theme, the profession the digest
  names is the one it was planted for, and no earlier distinctive item matched it.

Planted themes found: those some right item matched ("anywhere": the majority theme of some
item, right or not). A label is a phrase in the digest's language when it has 2-6 words and
no comma, its words run contiguously (case and accents aside) in one of the item's sentences
that is in the digest's language (:func:`cogs.digest.language.sentence_lang`, the analysis's
own rule), and none of its words is foreign (see :func:`label_checks`). "On topic": the label
holds one of the keywords planted_themes.json gives the item's majority theme. The baseline
row scores the same items with their keyword bags (``Theme.keywords``, c-TF-IDF words from
:func:`cogs.digest.labelling.keywords`, comma-joined: the labels before #14) in the label
columns; its other columns are the same items, so the same figures.

The issue's "Done when" is shown as a verdict: shared and distinctive items >= 85 % right and
every label a phrase in the digest's language. Figures are reported, never enforced: the
script exits 0 unless it crashed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402
from cogs.digest import analysis as an  # noqa: E402
from cogs.digest import language, render  # noqa: E402
from cogs.digest.model import AnswerIn, Encoder, Vectors  # noqa: E402

DATA: Final = ROOT / "tests" / "cogs" / "digest" / "data"
HEADER: Final = DATA / "planted_themes.json"
HELDOUT: Final = DATA / "heldout_themes.json"
#: Corpus name: (its header, its locale in that header, the bank prompt the round answers).
CORPORA: Final[dict[str, tuple[Path, str, str]]] = {
    "fr": (HEADER, "fr", "founding"),
    "en": (HEADER, "en", "founding"),
    "fr-heldout": (HELDOUT, "fr", "ai"),
    "en-heldout": (HELDOUT, "en", "ai"),
    "fr-fresh": (DATA / "fresh_themes.json", "fr", "disconnect"),
    "en-fresh": (DATA / "fresh_themes.json", "en", "disconnect"),
    "fr-time": (DATA / "time_themes.json", "fr", "time"),
    "en-time": (DATA / "time_themes.json", "en", "time"),
    "fr-begin": (DATA / "begin_themes.json", "fr", "beginners"),
    "en-begin": (DATA / "begin_themes.json", "en", "beginners"),
}
TARGET: Final = 0.85
SHOWN_SHARED: Final[int] = render.SHOWN_SHARED
SHOWN_DISTINCTIVE: Final[int] = render.SHOWN_DISTINCTIVE
_WORD_RE: Final = re.compile(r"[^\W_]+", re.UNICODE)


# ---------------------------------------------------------------- corpus


@dataclass(frozen=True, slots=True)
class Corpus:
    """One planted round: its answers, what each carries, and the themes planted in it."""

    locale: str
    answers: list[AnswerIn]
    #: Planted theme ids by answer id.
    planted: dict[str, tuple[str, ...]]
    #: The themes planted in this corpus, by id (planted_themes.json entries).
    themes: dict[str, dict[str, Any]]
    #: The bank prompt the round answers (its text and sub-questions are the analysis's).
    question: str = "founding"
    name: str = ""


def load(name: str, limit: int | None = None) -> Corpus:
    """A corpus read as ``cercle digest --from-jsonl`` reads it (its first ``limit`` lines)."""
    from cogs.digest.cli import read_answers

    path_header, locale, question = CORPORA[name]
    header = json.loads(path_header.read_text(encoding="utf-8"))
    path = DATA / header["corpora"][locale]["file"]
    answers, problems = read_answers(path)
    if problems:
        raise ValueError(f"{path}: {problems}")
    answers = answers[:limit]
    lines = path.read_text(encoding="utf-8").splitlines()
    planted = {
        str(number): tuple(json.loads(line)["planted"])
        for number, line in enumerate(lines, 1)
        if line.strip()
    }
    themes = {t["id"]: t for t in header["themes"] if locale in t["corpora"]}
    return Corpus(locale, answers, planted, themes, question, name)


# ---------------------------------------------------------------- what the digest holds


@dataclass(slots=True)
class Item:
    """A digest item, the answers behind it, and how it scored."""

    section: str  # "shared" | "distinctive"
    label: str
    keywords: str
    profession: str
    #: Answer ids behind the item (those its sentences come from).
    answers: list[str]
    #: Its sentences as (text, language).
    sentences: list[tuple[str, str]]
    shown: bool = True
    majority: str = ""
    share: float = 0.0
    right: bool = False
    matched: bool = True
    checks: dict[str, dict[str, bool]] = field(default_factory=dict)


@contextmanager
def _capturing_clusters() -> Iterator[list[Any]]:
    """Keep what ``analysis.cluster`` returns while the block runs."""
    seen: list[Any] = []
    original = an.cluster

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        labels = original(*args, **kwargs)
        seen.append(labels)
        return labels

    an.cluster = wrapped  # type: ignore[assignment]
    try:
        yield seen
    finally:
        an.cluster = original  # type: ignore[assignment]


@dataclass(slots=True)
class Digested:
    """A corpus's digest, its items, and what the bench saw of the round on the way."""

    digest: an.Digest
    items: list[Item]
    analyse_s: float
    #: Word counts of the round's sentences, by sentence language.
    counts: dict[str, Counter[str]]
    #: The answer ids of each of the clustering's themes.
    groups: list[set[str]]


def digest_items(corpus: Corpus, vectors: Mapping[str, Vectors]) -> Digested:
    """The digest of the corpus, its items, and the round's sentences as the analysis saw them."""
    from cogs.rounds.bank import seeds

    founding = seeds()[corpus.question][corpus.locale]
    started = time.perf_counter()
    with _capturing_clusters() as seen:
        digest = an.analyse(
            founding.text,
            corpus.answers,
            vectors,
            sub_questions=list(founding.subs),
            locale=corpus.locale,
        )
    seconds = time.perf_counter() - started
    if len(seen) != 1:
        raise RuntimeError(f"analyse clustered {len(seen)} times, expected once")
    # The sentences in the order analyse embeds them (same filters, same split).
    answers = [a for a in corpus.answers if a.text.strip() and a.id in vectors]
    texts: list[str] = []
    owners: list[AnswerIn] = []
    langs: list[str] = []
    for answer in answers:
        said = an.claims(answer.text, vectors[answer.id])
        if said is None:
            continue
        parts = said[0]
        lang = answer.lang or language.guess_lang(answer.text)
        texts += parts
        owners += [answer] * len(parts)
        langs += [language.sentence_lang(p, lang) for p in parts]
    labels = [int(x) for x in seen[0]]
    if len(labels) != len(texts):
        raise RuntimeError(f"{len(labels)} theme numbers for {len(texts)} sentences")
    clusters: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        clusters[label].append(index)

    def find(theme: an.Theme) -> list[int] | None:
        """The cluster holding the quoted sentence, when its counts are the theme's."""
        quoted = [
            i
            for i, text in enumerate(texts)
            if owners[i].id == theme.quote.answer and an.trim(text) == theme.quote.text
        ]
        fits = []
        for i in quoted:
            members = clusters[labels[i]]
            if (
                len(members) == theme.sentences
                and len({owners[j].id for j in members}) == theme.answers
                and len({owners[j].who for j in members}) == theme.author_count
            ):
                fits.append(members)
        return fits[0] if len(fits) == 1 else None

    items = []
    entries = [("shared", t, "", n < SHOWN_SHARED) for n, t in enumerate(digest.shared)] + [
        ("distinctive", d.theme, d.profession, n < SHOWN_DISTINCTIVE)
        for n, d in enumerate(digest.distinctive)
    ]
    for section, theme, profession, shown in entries:
        members = find(theme)
        items.append(
            Item(
                section=section,
                label=theme.label,
                keywords=", ".join(theme.keywords),
                profession=profession,
                answers=list(dict.fromkeys(owners[i].id for i in members or ())),
                sentences=[(texts[i], langs[i]) for i in members or ()],
                matched=members is not None,
                shown=shown,
            )
        )
    return Digested(
        digest,
        items,
        seconds,
        word_counts(list(zip(texts, langs, strict=True))),
        [{owners[i].id for i in members} for members in clusters.values()],
    )


# ---------------------------------------------------------------- scoring


def fold(text: str) -> str:
    """Lowercase, no accents, ’ as '."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(fold(text))


def _contiguous(label: str, sentence: str) -> bool:
    needle = " ".join(_words(label))
    return bool(needle) and f" {needle} " in f" {' '.join(_words(sentence))} "


def _known_only_in_other(word: str, locale: str) -> bool:
    """simplemma knows the word in the other language only."""
    try:
        import simplemma
    except ModuleNotFoundError:  # pragma: no cover - a project dependency
        return False
    other = "en" if locale == "fr" else "fr"
    return bool(simplemma.is_known(word, lang=other)) and not simplemma.is_known(word, lang=locale)


#: Word counts of a round's sentences, by sentence language.
WordCounts = Mapping[str, Counter[str]]


def word_counts(sentences: Sequence[tuple[str, str]]) -> dict[str, Counter[str]]:
    """How often the round writes each (folded) word, by sentence language."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for text, lang in sentences:
        out[lang].update(_words(text))
    return dict(out)


def label_checks(
    label: str, sentences: Sequence[tuple[str, str]], locale: str, counts: WordCounts
) -> dict[str, bool]:
    """Whether ``label`` is a phrase of the item's sentences, and one in the digest's language.

    A word of it is foreign when simplemma knows it in the other language only and the round
    writes it at least as often in other-language sentences as in the digest's (simplemma
    misses invariant words: "temps", "post" and "Facebook" are unknown in French).
    """
    words = label.split()
    shape = 2 <= len(words) <= 6 and "," not in label
    phrase = shape and any(_contiguous(label, text) for text, _ in sentences)
    own = shape and any(_contiguous(label, text) for text, lang in sentences if lang == locale)
    other = "en" if locale == "fr" else "fr"
    mine, theirs = counts.get(locale, Counter()), counts.get(other, Counter())

    def foreign(word: str) -> bool:
        folded = fold(word)
        return _known_only_in_other(word, locale) and theirs[folded] >= mine[folded]

    native = not any(foreign(w) for w in _WORD_RE.findall(label.lower()))
    return {"phrase": phrase, "language": phrase and own and native}


def on_topic(label: str, theme: Mapping[str, Any] | None, locale: str) -> bool:
    """The label holds one of the theme's keywords (words compared on their first 5 letters)."""
    if theme is None:
        return False
    said = {w[:5] for w in _words(label)}
    return any(all(w[:5] in said for w in _words(keyword)) for keyword in theme["keywords"][locale])


def score(items: list[Item], corpus: Corpus) -> None:
    """Fill each item's majority theme and whether it is right (in digest order)."""
    matched: dict[str, set[str]] = {"shared": set(), "distinctive": set()}
    for item in items:
        votes = Counter(t for a in item.answers for t in set(corpus.planted.get(a, ())))
        item.majority, item.share = "", 0.0
        if votes and item.answers:
            top, count = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))
            if 2 * count > len(item.answers):
                item.majority, item.share = top, count / len(item.answers)
        theme = corpus.themes.get(item.majority)
        item.right = (
            theme is not None
            and theme["kind"] == item.section
            and item.majority not in matched[item.section]
            and (item.section == "shared" or theme["profession"] == item.profession)
        )
        if item.right:
            matched[item.section].add(item.majority)


def measures(
    items: list[Item], corpus: Corpus, label_of: Callable[[Item], str], counts: WordCounts
) -> dict[str, Any]:
    """The figures of one row (items right, themes found, labels) over ``items``."""
    shared = [i for i in items if i.section == "shared"]
    distinctive = [i for i in items if i.section == "distinctive"]
    found = {i.majority for i in items if i.right}
    anywhere = {i.majority for i in items if i.majority in corpus.themes}
    checks = [label_checks(label_of(i), i.sentences, corpus.locale, counts) for i in items]
    return {
        "shared_right": sum(i.right for i in shared),
        "shared_total": len(shared),
        "distinctive_right": sum(i.right for i in distinctive),
        "distinctive_total": len(distinctive),
        "found": len(found),
        "found_anywhere": len(anywhere),
        "planted": len(corpus.themes),
        "planted_shared": sum(t["kind"] == "shared" for t in corpus.themes.values()),
        "planted_distinctive": sum(t["kind"] == "distinctive" for t in corpus.themes.values()),
        "unmatched_items": sum(not i.matched for i in items),
        "labels_phrase": sum(c["phrase"] for c in checks),
        "labels_language": sum(c["language"] for c in checks),
        "labels_on_topic": sum(
            on_topic(label_of(i), corpus.themes.get(i.majority), corpus.locale) for i in items
        ),
        "labels_total": len(items),
    }


def verdict(row: Mapping[str, Any]) -> bool:
    """The issue's "Done when": items >= 85 % right, every label a phrase in the language."""

    def rate(right: int, total: int) -> float:
        return right / total if total else 0.0

    return (
        rate(row["shared_right"], row["shared_total"]) >= TARGET
        and rate(row["distinctive_right"], row["distinctive_total"]) >= TARGET
        and row["labels_language"] == row["labels_total"]
    )


# ---------------------------------------------------------------- a run


def run_corpus(
    name: str,
    *,
    limit: int | None = None,
    encoder: Encoder | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Digest one corpus and score it, with the digest's labels and with the keyword bags."""
    from cogs.digest import clustering

    say = progress or (lambda _text: None)
    corpus = load(name, limit)
    locale = corpus.locale
    started = time.perf_counter()
    encode = encoder or clustering.default_encoder()
    encode(["warm up"])
    load_s = time.perf_counter() - started
    total_sentences = sum(len(language.sentences(a.text)) for a in corpus.answers)
    say(f"{locale}: {len(corpus.answers)} answers, {total_sentences} sentences")

    def on_progress(done: int, total: int) -> None:
        say(f"{locale}: embedded {done}/{total} sentences")

    t0 = time.perf_counter()
    vectors, _ = clustering.embed_answers(corpus.answers, encoder=encode, progress=on_progress)
    embed_s = time.perf_counter() - t0
    run = digest_items(corpus, vectors)
    digest, items, counts = run.digest, run.items, run.counts
    say(f"{locale}: {len(digest.shared)} shared, {len(digest.distinctive)} distinctive items")
    score(items, corpus)
    for item in items:
        item.checks = {
            "digest": label_checks(item.label, item.sentences, locale, counts),
            "keywords": label_checks(item.keywords, item.sentences, locale, counts),
        }
    shown = [i for i in items if i.shown]
    return {
        "corpus": name,
        "answers": len(corpus.answers),
        "authors": len({a.who for a in corpus.answers}),
        "professions": sum(
            1
            for p, n in Counter(
                p for p, _ in {(a.profession, a.who) for a in corpus.answers}
            ).items()
            if p and n >= 15
        ),
        "sentences": total_sentences,
        "digest": measures(shown, corpus, lambda i: i.label, counts),
        "baseline": measures(shown, corpus, lambda i: i.keywords, counts),
        "ranked": measures(items, corpus, lambda i: i.label, counts),
        "model_load_s": load_s,
        "embed_s": embed_s,
        "analyse_s": run.analyse_s,
        "themes": len(run.groups),
        "missed": missed(shown, corpus, run.groups),
        "items": [asdict(i) | {"sentences": len(i.sentences)} for i in items],
    }


def missed(items: list[Item], corpus: Corpus, groups: list[set[str]]) -> list[dict[str, Any]]:
    """Planted themes no right item among ``items`` matched: how many answers carry each, and
    the most of them one of the clustering's themes holds (a theme holds an answer when it
    holds one of its sentences, whichever theme that sentence was written for)."""
    found = {i.majority for i in items if i.right}
    out = []
    for theme in corpus.themes:
        if theme in found:
            continue
        carriers = {a.id for a in corpus.answers if theme in corpus.planted.get(a.id, ())}
        overlaps = sorted((len(g & carriers) for g in groups), reverse=True)
        out.append(
            {
                "theme": theme,
                "answers": len(carriers),
                "most_in_one_theme": overlaps[0] if overlaps else 0,
            }
        )
    return out


def _pct(right: int, total: int) -> str:
    return f"{right}/{total} ({right / total:.0%})" if total else "0/0"


def table(results: Sequence[Mapping[str, Any]]) -> str:
    """The figures, one row per corpus and labelling."""
    head = (
        "corpus     | labels         | shared right  | distinctive right | planted found "
        "(anywhere) | labels: phrase in language | on topic | verdict"
    )
    out = [head, "-" * len(head)]
    for r in results:
        rows = (("digest phrases", "digest"), ("keyword bag", "baseline"), ("all ranked", "ranked"))
        for name, key in rows:
            m = r[key]
            out.append(
                f"{r['corpus']:<10} | {name:<14} "
                f"| {_pct(m['shared_right'], m['shared_total']):<13} "
                f"| {_pct(m['distinctive_right'], m['distinctive_total']):<17} "
                f"| {m['found']}/{m['planted']} ({m['found_anywhere']}) "
                f"| {_pct(m['labels_language'], m['labels_total'])} "
                f"(phrase {m['labels_phrase']}) "
                f"| {m['labels_on_topic']}/{m['labels_total']} "
                # Only the digest's own row is held to the budget; the others are baselines.
                f"| {('met' if verdict(m) else 'not met') if key == 'digest' else 'baseline'}"
            )
    for r in results:
        out.append(budget_line(r["corpus"], r["digest"]))
    return "\n".join(out)


def budget_line(corpus: str, m: Mapping[str, Any]) -> str:
    """The digest's figures on ``corpus`` as budgets, so that ``make bench`` prints each ratio."""

    def held(what: str, right: int, total: int, floor: float) -> str:
        share = 100 * right / total if total else 0.0
        ok = "PASS" if share >= 100 * floor else "FAIL"
        return f"{corpus} {what} {share:.0f} % (budget ≥ {100 * floor:.0f} %: {ok})"

    return ", ".join(
        (
            held("shared right", m["shared_right"], m["shared_total"], TARGET),
            held("distinctive right", m["distinctive_right"], m["distinctive_total"], TARGET),
            held("labels in the language", m["labels_language"], m["labels_total"], 1.0),
        )
    )


def items_listing(result: Mapping[str, Any]) -> str:
    """Every item of a corpus's digest: what it matched, and its two labels."""
    lines = [f"-- {result['corpus']}: items (section, profession, majority theme, right, label)"]
    for i in result["items"]:
        mark = "ok " if i["right"] else "-- "
        where = f" [{i['profession'] or '(none)'}]" if i["section"] == "distinctive" else ""
        ok = "" if i["checks"]["digest"]["language"] else "  (label not a phrase in language)"
        lines.append(
            f"  {mark}{i['section']:<11}{where} {i['majority'] or '(no majority)'} "
            f"{i['share']:.0%} of {len(i['answers'])} answers: {i['label']!r}{ok}"
            f"  | bag: {i['keywords']!r}"
        )
    return "\n".join(lines)


def main() -> None:
    """Run each corpus and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument(
        "--corpus",
        default=",".join(CORPORA),
        help=f"comma-separated, among {', '.join(CORPORA)} (all by default)",
    )
    parser.add_argument("--limit", type=int, default=None, help="first N answers of each")
    parser.add_argument("--items", action="store_true", help="list every item and its labels")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    results = [
        run_corpus(name, limit=args.limit, progress=say) for name in args.corpus.split(",") if name
    ]
    total_s = time.perf_counter() - started
    host = machine()
    if args.json:
        print(json.dumps({"results": results, "total_s": total_s, "machine": host}, indent=2))
        return
    print(table(results))
    for r in results:
        if args.items:
            print(items_listing(r))
        print(
            f"{r['corpus']}: {r['answers']} answers from {r['authors']} authors, "
            f"{r['professions']} professions with 15+ authors, {r['sentences']} sentences; "
            f"model load {r['model_load_s']:.2f} s, embed {r['embed_s']:.2f} s, "
            f"analyse {r['analyse_s']:.2f} s; {r['themes']} themes clustered"
        )
        for m in r["missed"]:
            print(
                f"  missed {m['theme']}: {m['answers']} answers carry it, one clustered theme "
                f"holds {m['most_in_one_theme']} of them at most"
            )
    print(f"total {total_s:.1f} s")
    print(
        f"machine: {host['cpu']}, {host['cpus']} CPUs, {host['memory']}, {host['system']}, "
        f"Python {host['python']}, load average {host['load_average']}"
    )


if __name__ == "__main__":
    main()
