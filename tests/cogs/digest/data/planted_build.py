"""Build planted_fr.jsonl and planted_en.jsonl from the hand-written planted_source.txt (#14).

Run it as ``.venv/bin/python tests/cogs/digest/data/planted_build.py`` (deterministic: fixed
seeds); it rewrites both corpora and prints, on stderr, who raises each planted theme.

A round is dealt out like a real one: each profession has its authors (15-50), some authors
give no profession, about one in ten answers in the other language, about one in six says
nothing the round has in common (background only), a few come back with a second answer.
Every hand-written line is used exactly once:

- a distinctive theme's lines go to authors of its profession, except the lines marked ``~``
  (something anyone could say), which go to authors of other professions;
- a shared theme's lines are spread over every profession (the no-profession group too) in
  proportion to its authors, to those who have said least so far;
- background lines go first to the background-only authors, then as an aside to others;
- lines in the other language go to the authors who answer in it.

The answer's sentences are shuffled and joined as people type (a line without final
punctuation ends the sentence with a line break, or runs into the next one), then roughed up
a little: a lowercase start, no final full stop, a French answer typed without accents, two
letters swapped in a word. Each answer: ``{"author", "profession", "text", "planted"}``, with
``planted`` the ids of the themes its sentences were written for (in the order they appear).
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
SOURCE: Final = HERE / "planted_source.txt"
HEADER: Final = HERE / "planted_themes.json"
SEEDS: Final = {"fr": 1414, "en": 1415}
#: Authors per profession key ("" gives no profession).
PROFESSIONS: Final[dict[str, dict[str, int]]] = {
    "fr": {
        "secondary_teacher": 44,
        "nurse": 38,
        "farmer": 33,
        "lawyer": 30,
        "baker": 27,
        "electrician": 25,
        "journalist": 23,
        "architect": 21,
        "accountant": 18,
        "social_worker": 16,
        "": 18,
    },
    "en": {
        "software_developer": 42,
        "primary_teacher": 36,
        "chef": 32,
        "photographer": 30,
        "real_estate_agent": 27,
        "fitness_instructor": 25,
        "pharmacist": 22,
        "plumber": 20,
        "musician": 18,
        "hairdresser": 16,
        "": 20,
    },
}
BACKGROUND_ONLY: Final = 0.17
#: Authors answering in the other language with one or two shared-theme lines.
OTHER_LANGUAGE_SHARED: Final = 18
SECOND_ANSWERS: Final = 10
SECOND_OPENERS: Final = {
    "fr": ("Ah et j'oubliais : ", "PS : ", "Je rajoute un truc. ", "Autre chose : "),
    "en": ("Oh and one more thing: ", "PS: ", "Forgot to add: ", "Also, "),
}
END_PUNCTUATION: Final = '.!?…»")'
#: First words a second answer's opener leaves capitalised.
KEEP_CAPITAL: Final = frozenset(
    str.split(
        "I I'm I've I'd I'll LinkedIn Facebook Insta Instagram TikTok Twitter Pinterest "
        "Meta Snapchat YouTube WhatsApp Messenger Reddit Discord Nextdoor Marketplace"
    )
)


@dataclass
class Line:
    """One hand-written line and what it was written for."""

    text: str
    theme: str  # "" for background
    lang: str
    anyone: bool = False


@dataclass
class Author:
    """Someone answering, and the lines dealt to them."""

    id: str
    profession: str
    lines: list[Line] = field(default_factory=list)
    other_language: bool = False
    background_only: bool = False

    def has(self, theme: str) -> bool:
        return any(line.theme == theme for line in self.lines)


def read_source() -> dict[tuple[str, str, str], list[Line]]:
    """Sections of planted_source.txt by (corpus, theme or "", language)."""
    sections: dict[tuple[str, str, str], list[Line]] = {}
    current: list[Line] | None = None
    key = ("", "", "")
    for raw in SOURCE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("== "):
            corpus, theme, lang = line[3:].split()
            key = (corpus, "" if theme == "background" else theme, lang)
            if key in sections:
                raise ValueError(f"section {line!r} twice")
            current = sections[key] = []
            continue
        if current is None:
            raise ValueError(f"line outside a section: {line!r}")
        anyone = line.startswith("~ ")
        current.append(Line(line.removeprefix("~ "), key[1], key[2], anyone))
    texts = Counter(line.text for lines in sections.values() for line in lines)
    twice = [t for t, n in texts.items() if n > 1]
    if twice:
        raise ValueError(f"lines written twice: {twice}")
    return sections


def themes() -> dict[str, dict[str, Any]]:
    """The planted themes by id, from planted_themes.json."""
    header = json.loads(HEADER.read_text(encoding="utf-8"))
    return {t["id"]: t for t in header["themes"]}


def build(corpus: str) -> list[dict[str, Any]]:
    """The answers of one corpus."""
    rng = random.Random(SEEDS[corpus])
    planted = themes()
    sections = {k: v for k, v in read_source().items() if k[0] == corpus}
    main = corpus
    other = "en" if corpus == "fr" else "fr"
    authors: list[Author] = []
    for profession, count in PROFESSIONS[corpus].items():
        for _ in range(count):
            authors.append(Author(f"{corpus}-{len(authors) + 1:03d}", profession))
    rng.shuffle(authors)
    by_profession: dict[str, list[Author]] = defaultdict(list)
    for a in authors:
        by_profession[a.profession].append(a)

    # Authors answering in the other language: a distinctive line goes to its profession.
    for (_, theme, lang), lines in sorted(sections.items()):
        if lang != other or not theme or planted[theme]["kind"] != "distinctive":
            continue
        for line in lines:
            pool = [a for a in by_profession[planted[theme]["profession"]] if not a.other_language]
            chosen = rng.choice(pool)
            chosen.other_language = True
            chosen.lines.append(line)
    free = [a for a in authors if not a.other_language]
    speakers = rng.sample(free, OTHER_LANGUAGE_SHARED)
    for a in speakers:
        a.other_language = True
    shared_other = [
        line
        for (_, theme, lang), lines in sorted(sections.items())
        if lang == other and theme and planted[theme]["kind"] == "shared"
        for line in lines
    ]
    rng.shuffle(shared_other)
    for i, line in enumerate(shared_other):
        if i < len(speakers):
            speakers[i].lines.append(line)
        else:
            rng.choice([a for a in speakers if not a.has(line.theme)]).lines.append(line)
    background_other = list(sections.get((corpus, "", other), []))
    for i, line in enumerate(background_other):
        if i % 2 == 0:
            rng.choice(speakers).lines.append(line)
        else:
            pool = [a for a in authors if not a.other_language]
            loner = rng.choice(pool)
            loner.other_language = loner.background_only = True
            loner.lines.append(line)

    # Background-only authors, the same share of every profession.
    for members in by_profession.values():
        pool = [a for a in members if not a.other_language]
        for a in rng.sample(pool, round(BACKGROUND_ONLY * len(pool))):
            a.background_only = True
    themed = [a for a in authors if not a.other_language and not a.background_only]

    # Distinctive themes: their profession, and the "~" lines elsewhere.
    for (_, theme, lang), lines in sorted(sections.items()):
        if lang != main or not theme or planted[theme]["kind"] != "distinctive":
            continue
        owner = planted[theme]["profession"]
        own = [line for line in lines if not line.anyone]
        elsewhere = [line for line in lines if line.anyone]
        pool = [a for a in themed if a.profession == owner]
        if len(own) > len(pool):
            raise ValueError(f"{theme}: {len(own)} lines for {len(pool)} {owner} authors")
        for a, line in zip(rng.sample(pool, len(own)), own, strict=True):
            a.lines.append(line)
        outside = [a for a in themed if a.profession not in (owner, "")]
        for a, line in zip(rng.sample(outside, len(elsewhere)), elsewhere, strict=True):
            a.lines.append(line)

    # Shared themes: every group in proportion to its authors, who has said least first.
    groups = sorted({a.profession for a in themed})
    for (_, theme, lang), lines in sorted(sections.items()):
        if lang != main or not theme or planted[theme]["kind"] != "shared":
            continue
        sizes = {g: sum(1 for a in themed if a.profession == g) for g in groups}
        quota = _apportion(len(lines), sizes)
        dealt = list(lines)
        rng.shuffle(dealt)
        for g in groups:
            pool = [a for a in themed if a.profession == g and not a.has(theme)]
            pool.sort(key=lambda a: (len(a.lines), rng.random()))
            for a in pool[: quota[g]]:
                a.lines.append(dealt.pop())
        if dealt:
            raise ValueError(f"{theme}: {len(dealt)} lines left over")

    # Background: one line each for the background-only authors, the rest as asides.
    background = list(sections.get((corpus, "", main), []))
    rng.shuffle(background)
    for a in authors:
        if a.background_only and not a.other_language:
            a.lines.append(background.pop())
    asides = rng.sample(themed, len(background))
    for a, line in zip(asides, background, strict=True):
        a.lines.append(line)

    # Answers: sentences shuffled, a few authors split theirs over a second answer.
    answers: list[tuple[Author, list[Line], str]] = []
    twice = set(rng.sample([a.id for a in themed if len(a.lines) >= 2], SECOND_ANSWERS))
    for a in authors:
        lines = list(a.lines)
        rng.shuffle(lines)
        if a.id in twice:
            cut = rng.randint(1, len(lines) - 1)
            answers.append((a, lines[:cut], ""))
            answers.append((a, lines[cut:], rng.choice(SECOND_OPENERS[main])))
        else:
            answers.append((a, lines, ""))
    firsts = [x for x in answers if not x[2]]
    seconds = [x for x in answers if x[2]]
    rng.shuffle(firsts)
    ordered = list(firsts)
    for item in seconds:
        at = next(i for i, x in enumerate(ordered) if x[0] is item[0])
        ordered.insert(rng.randint(at + 1, len(ordered)), item)
    out = []
    for a, lines, opener in ordered:
        lang = other if a.other_language else main
        text = _roughen(opener + _join(lines, rng, opener), lang, rng)
        out.append(
            {
                "author": a.id,
                "profession": a.profession,
                "text": text,
                "planted": list(dict.fromkeys(line.theme for line in lines if line.theme)),
                "_lang": lang,  # for the report; not written
            }
        )
    return out


def _apportion(total: int, sizes: dict[str, int]) -> dict[str, int]:
    """``total`` split in proportion to ``sizes`` (largest remainders)."""
    whole = sum(sizes.values())
    exact = {g: total * n / whole for g, n in sizes.items()}
    quota = {g: int(x) for g, x in exact.items()}
    for g in sorted(exact, key=lambda g: (quota[g] - exact[g], g))[: total - sum(quota.values())]:
        quota[g] += 1
    return quota


def _join(lines: list[Line], rng: random.Random, opener: str) -> str:
    parts: list[str] = []
    for i, line in enumerate(lines):
        text = line.text
        if i == 0 and opener and text.split()[0].strip(",:") not in KEEP_CAPITAL:
            text = text[:1].lower() + text[1:]
        if i == len(lines) - 1:
            parts.append(text)
        elif text[-1] in END_PUNCTUATION:
            parts.append(text + ("\n" if rng.random() < 0.1 else " "))
        else:
            parts.append(text + ("\n" if rng.random() < 0.7 else " "))
    return "".join(parts)


def _roughen(text: str, lang: str, rng: random.Random) -> str:
    if rng.random() < 0.2:
        text = text[:1].lower() + text[1:]
    if rng.random() < 0.15 and text.endswith("."):
        text = text[:-1]
    if lang == "fr" and rng.random() < 0.08:
        decomposed = unicodedata.normalize("NFD", text)
        text = unicodedata.normalize(
            "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
        )
    if lang == "en" and rng.random() < 0.08:
        text = text.replace(" I ", " i ").replace("I'm", "im")
    if rng.random() < 0.1:
        words = text.split(" ")
        long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
        if long:
            i = rng.choice(long)
            w = words[i]
            j = rng.randint(1, len(w) - 3)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            text = " ".join(words)
    return text


def report(corpus: str, answers: list[dict[str, Any]]) -> None:
    """Who raises each planted theme, on stderr."""
    planted = themes()
    authors: dict[str, set[str]] = defaultdict(set)
    for x in answers:
        authors[x["profession"]].add(x["author"])
    raised: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for x in answers:
        for theme in x["planted"]:
            raised[theme][x["profession"]].add(x["author"])
    total = sum(len(v) for v in authors.values())
    print(f"{corpus}: {len(answers)} answers, {total} authors", file=sys.stderr)
    print(
        "  " + ", ".join(f"{p or '(none)'} {len(v)}" for p, v in sorted(authors.items())),
        file=sys.stderr,
    )
    for theme, by in sorted(raised.items()):
        t = planted[theme]
        rates = {p: len(by.get(p, ())) / len(v) for p, v in authors.items() if p}
        if t["kind"] == "shared":
            print(
                f"  shared {theme}: {sum(len(v) for v in by.values())} authors, "
                f"{sum(1 for r in rates.values() if r > 0)} professions, "
                f"rates {min(rates.values()):.0%}-{max(rates.values()):.0%}",
                file=sys.stderr,
            )
        else:
            owner = t["profession"]
            own = len(by.get(owner, ()))
            rest = sum(len(v) for p, v in by.items() if p != owner)
            size = len(authors[owner])
            print(
                f"  distinctive {theme}: {own}/{size} {owner} "
                f"({own / size:.0%}), {rest}/{total - size} elsewhere",
                file=sys.stderr,
            )
    other = sum(1 for x in answers if x["_lang"] != corpus)
    background = sum(1 for x in answers if not x["planted"])
    print(
        f"  {other} answers in the other language, {background} with no planted theme",
        file=sys.stderr,
    )


def write(path: Path, answers: list[dict[str, Any]]) -> None:
    """Write a built corpus as JSON lines (the builder's own ``_lang`` left out)."""
    path.write_text(
        "".join(
            json.dumps({k: v for k, v in x.items() if k != "_lang"}, ensure_ascii=False) + "\n"
            for x in answers
        ),
        encoding="utf-8",
    )


def dealer(name: str, seeds: dict[str, int], professions: dict[str, dict[str, int]]) -> ModuleType:
    """A copy of this module set to deal ``{name}_source.txt`` as ``{name}_themes.json`` says,
    with its own seeds and professions (the later corpora: heldout, fresh, time, begin)."""
    spec = importlib.util.spec_from_file_location(f"{name}_planted_build", Path(__file__))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.SOURCE = HERE / f"{name}_source.txt"
    module.HEADER = HERE / f"{name}_themes.json"
    module.SEEDS = seeds
    module.PROFESSIONS = professions
    return module


def deal(module: ModuleType, corpus: str, other_language: int) -> list[dict[str, Any]]:
    """The answers a :func:`dealer` module deals for ``corpus``, ``other_language`` authors
    answering in the other language (an author dealt no line does not answer)."""
    module.OTHER_LANGUAGE_SHARED = other_language
    return [x for x in module.build(corpus) if x["text"].strip()]


def rewrite(name: str, module: ModuleType, other_language: dict[str, int]) -> None:
    """Rewrite both of a later corpus's files, ``{name}_fr.jsonl`` and ``{name}_en.jsonl``."""
    for corpus in ("fr", "en"):
        answers = deal(module, corpus, other_language[corpus])
        module.write(HERE / f"{name}_{corpus}.jsonl", answers)
        module.report(corpus, answers)  # the module's themes, not the planted ones


def main() -> None:
    """Rewrite both corpora."""
    for corpus in ("fr", "en"):
        answers = build(corpus)
        path = HERE / f"planted_{corpus}.jsonl"
        write(path, answers)
        report(corpus, answers)


if __name__ == "__main__":
    main()
