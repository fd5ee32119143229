"""Naming themes: a phrase from the theme's own sentences, and c-TF-IDF keywords (for exports).

A theme's label is a phrase one of its answers contains ("faux comptes et messages haineux"),
picked among the contiguous spans of its sentences in the digest's language: a span starts and
ends on a content word (never "de", "the", "et"), holds 2-6 words and no word twice, and never
crosses punctuation. Spans are compared by their lemmas (simplemma: "comptes" and "compte" make
one candidate) and ranked like c-TF-IDF keywords, against the round's other themes: a content
lemma weighs its share of the theme's sentences times ``log(1 + average theme size / its count
in all themes)``; a span scores the sum of its words' weights over the square root of its
length (a word earns its place only by carrying weight), more when several answers use it, a
little more when the quote shown contains its words. English spans holding a finite verb
("takes time") come last. The label shown is the span as an editor would keep it: after "et",
"and", the determiners and prepositions the first conjunct had are dropped ("élèves et de leurs
parents" -> "élèves et parents"), so its words stay in its sentences, in order (the quote
holds them). bench/digest_labels.py measures this
against keyword bags, YAKE and spaCy noun chunks on tests/cogs/digest/data/label_corpus.jsonl.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple

from cogs.digest.language import _words, fold, sentence_lang

# ---------------------------------------------------------------- keywords (c-TF-IDF)

_STOP_FR: Final = _words(
    "a à ai aie aient ainsi alors au aucun aussi autre autres aux avec avoir avons ayant beaucoup "
    "bien c ça car ce ceci cela celle celles celui ces cet cette chaque chez ci comme comment d "
    "dans de des donc dont du elle elles en encore entre est et étaient était été être eu eux "
    "fait faire fais font j je l la le les leur leurs lui m ma mais me même mes moi mon moins "
    "n ne ni non nos notre nous on ont ou où par parce pas peu peut plus pour pourquoi qu quand "
    "que quel quelle quelles quels qui quoi s sa sans se ses si sien son sont sous suis sur t ta "
    "te tes toi ton tous tout toute toutes très trop tu un une vos votre vous y rien tant "
    "souvent jamais toujours avant après déjà fois chose choses ils sans vraiment plutôt "
    "surtout juste quelques même cela ceux celles là ici dont lorsque depuis pendant alors "
    "avais avait avaient aurait serait sera sont sommes êtes nos vos mes tes ses leurs "
    "réseaux réseau sociaux social sociales métier métiers profession utilise utiliser "
    "j'ai c'est n'est qu'il qu'on d'un d'une l'on m'a m'ont s'est "
    "manque manquer faudrait aimerais aimerait voudrais déçu déçue décevant"
)
_STOP_EN: Final = _words(
    "a about above after again against all am an and any are as at be because been before "
    "being below between both but by can could did do does doing down during each few for from "
    "further had has have having he her here hers herself him himself his how i if in into is "
    "it its itself just me more most my myself no nor not now of off on once only or other our "
    "ours ourselves out over own same she should so some such than that the their theirs them "
    "themselves then there these they this those through to too under until up very was we "
    "were what when where which while who whom why will with would you your yours yourself "
    "really also much many still even get gets got lot lots one ones thing things use used "
    "using social network networks media profession job work i'm it's don't can't we're "
    "they're i've doesn't isn't doesn don isn miss missing wish need disappointed"
)
STOP_WORDS: Final = frozenset(_STOP_FR + _STOP_EN)
_TOKEN_RE: Final = re.compile(r"(?u)\b[^\W\d_][^\W\d_'’-]{2,}\b")


def _terms(sentence: str) -> set[str]:
    """Unigrams and bigrams of a sentence, stop words removed first (as scikit-learn does)."""
    words = [w for w in _TOKEN_RE.findall(sentence.lower()) if w not in STOP_WORDS]
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def keywords(
    groups: Sequence[Sequence[str]], top: int = 3, *, strict: bool = True
) -> list[tuple[str, ...]]:
    """The ``top`` c-TF-IDF keywords of each group of sentences (one group per theme).

    c-TF-IDF (BERTopic's class-based TF-IDF): a term's frequency in the group, normalised by
    the group's size, times ``log(1 + average group size / the term's frequency overall)``.
    A term counts once per sentence, and a keyword must come from two sentences at least when
    the group has several: a theme is named by what its members share, not by one long answer.
    Written on plain counters: scikit-learn's vectoriser costs more to import (over a second)
    than this takes to run on a 100,000-answer round's themes.
    """
    counts: list[Counter[str]] = []
    for group in groups:
        counter: Counter[str] = Counter()
        for sentence in group:
            counter.update(_terms(sentence))
        counts.append(counter)
    totals = [sum(c.values()) for c in counts]
    if not any(totals):
        return [() for _ in groups]
    average = sum(totals) / len(totals)
    overall: Counter[str] = Counter()
    for counter in counts:
        overall.update(counter)
    out: list[tuple[str, ...]] = []
    for counter, total, group in zip(counts, totals, groups, strict=True):
        scored = []
        for term, raw in counter.items():
            needed = 1 if not strict else (2 if " " in term or len(group) >= 3 else 1)
            if raw < needed:
                continue
            score = raw / max(total, 1) * math.log1p(average / overall[term])
            scored.append((-score, -term.count(" "), term))
        chosen: list[str] = []
        for _, _, term in sorted(scored):
            if len(chosen) >= top:
                break
            words = term.split()
            if any(_same_stem(w, o) for w in words for other in chosen for o in other.split()):
                continue
            chosen.append(term)
        out.append(tuple(chosen))
    return out


def _same_stem(a: str, b: str) -> bool:
    a, b = fold(a), fold(b)
    n = min(len(a), len(b), 6)
    return n >= 4 and a[:n] == b[:n]


# ---------------------------------------------------------------- phrase labels

#: Words that cannot start or end a label and weigh nothing in it: articles, prepositions,
#: conjunctions, pronouns, auxiliaries, negation, frequent adverbs.
_FUNCTION_FR: Final = frozenset(
    _words(
        "a à au aux avec ce ceci cela celle celles celui ces cet cette ceux chaque chez comme "
        "contre d dans de depuis des dès donc dont du elle elles en entre et eux il ils je l la "
        "le les leur leurs lors lui m ma mais me mes moi mon même n ne ni nos notre nous on ou "
        "où par pas pendant pour qu quand que quel quelle quels quelles qui quoi s sa sans se "
        "selon ses si son sous sur t ta te tes toi ton tous tout toute toutes tu un une vers "
        "via vos votre vous y ça c j jusqu lorsqu puisqu quoiqu malgré parmi après avant afin "
        "ainsi alors aussi autre autres aucun aucune beaucoup bien car certains certaines déjà "
        "désormais encore enfin ici jamais là moins peu plus plutôt presque puis quelque "
        "quelques seulement souvent surtout tant tellement toujours très trop vraiment juste "
        "ai as avons avez ont avait avais avaient aura aurait aurais eu est es sommes êtes sont "
        "suis était étais étaient été être sera serait serais soit fait font faire peut peux "
        "peuvent pouvoir doit doivent devrait faut faudrait va vont rien personne chacun assez "
        "plein tel telle tels telles cas fois chose choses lequel laquelle lesquels voici voilà "
        "oui non etc autour auprès avoir partout ailleurs dessus dessous dedans dehors davantage "
        "environ"
    )
)
_FUNCTION_EN: Final = frozenset(
    _words(
        "a about above across after again against all also always am among an and another any "
        "anyone anything are around as at be because been before behind being below between "
        "both but by can could did do does doing done down during each either else even ever "
        "every everyone everything few for from further had has have having he her here hers "
        "him his how however i if in into is it its itself just least less like many may me "
        "might mine more most much must my near neither never no nobody nor not nothing now of "
        "off often on once one only onto or other others our ours out over own per quite "
        "rather really same several unless shall she should since so some someone something still "
        "such than that the their theirs them then there these they this those though through "
        "thus to too under until up upon us very via was we were what when where whether which "
        "while who whom whose why will with within without would yet you your yours get gets "
        "got getting lot lots thing things way ways etc"
    )
)
#: Words any theme of a round about work and social networks uses: they weigh nothing either.
_GENERIC: Final = frozenset(
    _words(
        "réseaux réseau sociaux social sociale sociales métier métiers profession professions "
        "utilise utiliser utilisons manque manquer manquent faudrait aimerais aimerait voudrais "
        "déçu déçue déçus décevant networks network media job jobs work miss missing wish need "
        "needs disappointed use used using"
    )
)
#: Function words of both languages (no word of the round's subject among them).
FUNCTION_WORDS: Final = _FUNCTION_FR | _FUNCTION_EN
_NOT_CONTENT: Final = FUNCTION_WORDS | _GENERIC
#: Words that say nothing of a theme (stop, function, generic words), for the clustering.
CONTENT_STOP: Final = STOP_WORDS | _NOT_CONTENT
#: French elisions: "d'échange" is "d'" then "échange", so a label can start at "échange".
_ELIDED_RE: Final = re.compile(r"(?i)^(l|d|j|qu|n|s|c|m|t|jusqu|lorsqu|puisqu|quoiqu)['’](\w.*)$")
#: No label crosses these: a phrase is contiguous within a clause.
_BREAK_RE: Final = re.compile(r"[,;:.!?()\[\]{}«»\"“”…/|•–—]|\s-\s")
_SPAN_RE: Final = re.compile(r"\w+(?:['’-]\w+)*")
#: Endings of a conjugated French verb ("restent", "publient"): a title rarely starts with one.
_INFINITIVE_RE: Final = re.compile(r"(?:er|ir|re|oir)$")
_PARTICIPLE_RE: Final = re.compile(r"(?:é|ée|és|ées|i|ie|is|ies|u|ue|us|ues|ert|erte|ant)$")
_CONJUGATED_RE: Final = re.compile(r"(?:ais|ait|aient|ons|ez|ent)$")
#: Personal pronouns, negations, auxiliaries: a span holding one, or opening right after one,
#: is a clause ("parents m'ont contactée", "[je] fais ma veille", "algorithme ne montre",
#: "impôts a dégénéré"), not the name of a theme.
_CLAUSE_WORDS: Final = frozenset(
    _words(
        "je j' tu il ils elle elles on nous vous me m' te t' se s' lui leur ne n' pas a ai as "
        "avons avez ont avait avaient est sont était étaient sera seront i you he she we they "
        "me him us them it not never don't doesn't can't is are was were has have had will"
    )
)
MAX_WORDS: Final = 6
#: Sentences of a theme read for candidate phrases, most central first.
MAX_SOURCES: Final = 60
#: Sentences of a theme read for its words' weights (a 100,000-answer round stays cheap).
MAX_READ: Final = 400
#: A phrase several answers use is worth this much more per extra answer.
REPEAT_BONUS: Final = 0.25
#: A phrase whose words the quote shown contains is worth this much more.
QUOTE_BONUS: Final = 0.15
#: A word only one sentence of the theme uses weighs this share of its c-TF-IDF weight.
LONE_WORD: Final = 0.3
#: A phrase starting or ending on a conjugated French verb ("voit", "écrivent") keeps this share,
#: as does an English one cut between a modifier and its noun ("photos of finished | projects").
FINITE_EDGE: Final = 0.6
CUT_MODIFIER: Final = 0.5
#: ... and one that is a clause (a pronoun in it or right before it).
CLAUSE: Final = 0.6
#: Conjunctions of a coordinated label, and what an editor drops right after one when the
#: first conjunct already had it: "élèves et de leurs parents" -> "élèves et parents",
#: "agriculteurs et les restaurateurs du coin" -> "agriculteurs et restaurateurs du coin".
_CONJUNCTIONS: Final = frozenset(_words("et ou ni and or nor"))
_REPEATED: Final = frozenset(
    _words(
        "le la les l un une des du de d au aux à mon ma mes ton ta tes son sa ses notre nos "
        "votre vos leur leurs ce cet cette ces the a an my your his her its our their this "
        "that these those of to for with"
    )
)
#: An English -s form that is a verb, not a plural ("takes", "makes"), makes a clause: a label
#: never holds one ("Takes time"), nor starts on an -s form right after a subject ("it costs").
_VERBS_EN: Final = frozenset(
    _words(
        "take make give keep go come seem feel bring mean get put let say tell eat kill drive "
        "hurt require know think try become remain stay happen depend"
    )
)
_SUBJECTS_EN: Final = frozenset(
    _words("it he she this that which who what everything something nothing nobody everyone")
)
_MODIFIER_EN_RE: Final = re.compile(r"(?:ed|ing|al|ive|ous|ful|less|able|ible|ic|ary|ly)$")
_MODIFIERS_EN: Final = frozenset(
    _words(
        "new old last first next good best bad big small little young long short daily free "
        "fake false real main whole online local public private social"
    )
)

Lemmatiser = Callable[[str, str], str]
"""A lowercase word and its language -> its lemma, folded (no accents)."""


@dataclass(frozen=True, slots=True)
class Label:
    """A theme's name: a phrase one of its sentences contains."""

    #: As shown: first letter capitalised ("Faux comptes et messages haineux").
    text: str
    #: As written in the answers, for use inside a sentence ("faux comptes et messages haineux").
    phrase: str
    lang: str


@dataclass(frozen=True, slots=True)
class Lemmas:
    """How words are reduced to lemmas, and how a word only the other language uses is told."""

    lemma: Lemmatiser
    #: ``foreign(word, lang)``: the word is known in the other language and unknown in ``lang``.
    foreign: Callable[[str, str], bool] | None = None


def _stem(word: str, lang: str) -> str:
    """A lemma without a dictionary: folded, a plural -s or -x dropped."""
    w = fold(word)
    return w[:-1] if len(w) > 3 and w[-1] in "sx" and not w.endswith("ss") else w


#: No dictionary (measured against simplemma in bench/digest_labels.py).
STEMS: Final = Lemmas(_stem)


@functools.cache
def _lemma(word: str, lang: str) -> str:
    import simplemma  # on first use: its dictionaries load lazily, one language at a time

    try:
        return fold(simplemma.lemmatize(word, lang=lang))
    except ValueError:  # a locale simplemma does not know
        return _stem(word, lang)


@functools.cache
def _foreign(word: str, lang: str) -> bool:
    import simplemma

    other = {"fr": "en", "en": "fr"}.get(lang)
    if other is None:
        return False
    return bool(simplemma.is_known(word, lang=other)) and not simplemma.is_known(word, lang=lang)


#: simplemma's FR/EN dictionaries (the default).
SIMPLEMMA: Final = Lemmas(_lemma, _foreign)


class _Token(NamedTuple):
    word: str  # lowercase, ’ as '
    start: int
    end: int
    lemma: str
    content: bool
    finite: bool  # a conjugated French verb, by its lemma ("voit" -> "voir")


@functools.cache
def _word(word: str, lang: str, lemmas: Lemmas) -> tuple[str, bool, bool]:
    """A lowercase word's lemma, whether it is a content word, whether a conjugated verb."""
    base = word.removesuffix("'s") if lang == "en" else word
    content = (
        word not in _NOT_CONTENT
        and len(base) > 1
        and "'" not in base
        and any(c.isalpha() for c in base)
    )
    lemma = lemmas.lemma(base, lang) if content else word
    finite = (
        content
        and lang == "fr"
        and lemma != fold(base)
        and _INFINITIVE_RE.search(lemma) is not None
        and (_CONJUGATED_RE.search(base) is not None or not _PARTICIPLE_RE.search(base))
    )
    return lemma, content, finite


def _segments(sentence: str, lang: str, lemmas: Lemmas) -> list[list[_Token]]:
    """The sentence's words, with their offsets, in runs no label may cross."""
    out: list[list[_Token]] = []
    bounds = [0, *(p for m in _BREAK_RE.finditer(sentence) for p in m.span()), len(sentence)]
    for begin, end in itertools.pairwise(bounds):
        run: list[_Token] = []
        for m in _SPAN_RE.finditer(sentence, begin, end):
            a, b = m.span()
            text = m.group()
            elided = (
                _ELIDED_RE.match(text) if lang != "en" and ("'" in text or "’" in text) else None
            )
            if elided:
                cut = a + len(elided.group(1)) + 1
                pieces = [(a, cut), (cut, b)]
            else:
                pieces = [(a, b)]
            for x, y in pieces:
                word = sentence[x:y].lower().replace("’", "'")
                lemma, content, finite = _word(word, lang, lemmas)
                run.append(_Token(word, x, y, lemma, content, finite))
        if run:
            out.append(run)
    return out


@dataclass(slots=True)
class _Candidate:
    key: tuple[str, ...]
    content: tuple[str, ...]
    words: tuple[str, ...]  # the content words as written (lowercase)
    finite_edge: bool
    cut_modifier: bool
    verb_start: bool  # English, a clause on a finite verb ("takes time")
    clause: bool
    sentences: set[int]
    surfaces: Counter[str]


@dataclass(frozen=True, slots=True)
class _Group:
    """One theme's sentences, parsed, and what its candidates are weighed with."""

    texts: list[str]
    langs: list[str]
    segments: list[list[list[_Token]]]
    df: Counter[str]  # content lemma -> sentences of the theme using it


def phrase_labels(
    groups: Sequence[Sequence[tuple[str, str]]],
    locale: str,
    quotes: Sequence[str] = (),
    *,
    lemmas: Lemmas = SIMPLEMMA,
) -> list[Label | None]:
    """A phrase naming each group of ``(sentence, lang)`` pairs (one group per theme).

    Sentences should come most central first: the first :data:`MAX_SOURCES` are read for
    phrases, the first :data:`MAX_READ` for weights. ``quotes[i]`` is the sentence shown under
    theme ``i``, if any. A label comes from the group's sentences in ``locale``; a group with
    none is named from its other sentences (the best phrase there is, in their language).
    None for a group without a content word.
    """
    parsed: list[_Group] = []
    seen: dict[str, Counter[str]] = {}  # word -> languages of the sentences using it
    for group in groups:
        texts = [text for text, _ in group[:MAX_READ]]
        langs = [sentence_lang(text, lang) for text, lang in group[:MAX_READ]]
        segments = [_segments(t, lang, lemmas) for t, lang in zip(texts, langs, strict=True)]
        df: Counter[str] = Counter()
        for lang, runs in zip(langs, segments, strict=True):
            tokens = [t for run in runs for t in run if t.content]
            df.update({t.lemma for t in tokens})
            for word in {t.word for t in tokens}:
                seen.setdefault(word, Counter())[lang] += 1
        parsed.append(_Group(texts, langs, segments, df))
    overall: Counter[str] = Counter()
    for g in parsed:
        overall.update(g.df)
    sizes = [max(len(g.texts), 1) for g in parsed]
    average = sum(sizes) / max(len(sizes), 1)

    def foreign(word: str) -> bool:
        # The dictionary misses invariant words ("temps" is only English to it): a word is
        # foreign when the round also writes it at least as often in other-language sentences.
        if lemmas.foreign is None or not lemmas.foreign(word, locale):
            return False
        by_lang = seen.get(word, Counter())
        return sum(n for lang, n in by_lang.items() if lang != locale) >= by_lang[locale]

    out: list[Label | None] = []
    for index, g in enumerate(parsed):
        lone = LONE_WORD if len(g.texts) >= 3 else 1.0
        weight = {
            lemma: n / sizes[index] * math.log1p(average / overall[lemma]) * (1 if n > 1 else lone)
            for lemma, n in g.df.items()
        }
        in_locale = [i for i, lang in enumerate(g.langs) if lang == locale]
        # A theme nobody raised in the digest's language: its best phrase in another language.
        sources = (in_locale or list(range(len(g.texts))))[:MAX_SOURCES]
        quote = quotes[index] if index < len(quotes) else ""
        quote_lemmas = set()
        if quote:
            lang = g.langs[g.texts.index(quote)] if quote in g.texts else locale
            quote_lemmas = {t.lemma for run in _segments(quote, lang, lemmas) for t in run}
        out.append(_best(g, sources, weight, quote_lemmas, foreign if in_locale else None))
    return out


def _candidates(g: _Group, sources: Sequence[int]) -> dict[tuple[str, ...], _Candidate]:
    """Every span of 1 to :data:`MAX_WORDS` words that starts and ends on a content word."""
    found: dict[tuple[str, ...], _Candidate] = {}
    names = _names(g)
    for i in sources:
        text, runs = g.texts[i], g.segments[i]
        opening = runs[0][0].start if runs else -1
        for run in runs:
            for a, first in enumerate(run):
                if not first.content:
                    continue
                for b in range(a, min(a + MAX_WORDS, len(run))):
                    last = run[b]
                    if not last.content:
                        continue
                    span = run[a : b + 1]
                    words = [t.word for t in span]
                    if len(set(words)) < len(words):
                        break  # a repeated word: so is every longer span from here
                    key = tuple(t.lemma for t in span)
                    candidate = found.get(key)
                    if candidate is None:
                        candidate = _Candidate(
                            key,
                            tuple(t.lemma for t in span if t.content),
                            tuple(t.word for t in span if t.content),
                            first.finite or last.finite,
                            _cuts_modifier(run, b, g.langs[i]),
                            _holds_verb(run, a, b, g.langs[i]),
                            any(t.word in _CLAUSE_WORDS for t in run[max(a - 1, 0) : b + 1]),
                            set(),
                            Counter(),
                        )
                        found[key] = candidate
                    candidate.sentences.add(i)
                    surface = " ".join(text[first.start : last.end].split())
                    if first.start == opening and first.word not in names and not _acronym(surface):
                        surface = surface[:1].lower() + surface[1:]  # capital of the sentence's
                    candidate.surfaces[surface] += 1
    return found


def _holds_verb(run: list[_Token], a: int, b: int, lang: str) -> bool:
    """An English span opening on a verb's -s form, or holding one of :data:`_VERBS_EN`:
    a clause's predicate ("takes time", "videos takes time"), not a theme's name."""
    if lang != "en":
        return False

    def verb_form(token: _Token) -> bool:
        word = token.word
        return word.endswith("s") and not word.endswith("ss") and token.lemma != fold(word)

    first = run[a]
    if verb_form(first) and a > 0 and run[a - 1].word in _SUBJECTS_EN:
        return True
    return any(verb_form(t) and t.lemma in _VERBS_EN for t in run[a : b + 1])


def _coordinated(surface: str) -> str:
    """``surface`` without the determiners, possessives and prepositions that repeat right
    after a conjunction ("élèves et de leurs parents" -> "élèves et parents")."""
    out: list[str] = []
    after = False
    for word in surface.split():
        if after:
            bare = word.lower().replace("’", "'")
            elided = _ELIDED_RE.match(bare)
            if bare in _REPEATED:
                continue
            if elided and elided.group(1) in _REPEATED:
                word = word[len(elided.group(1)) + 1 :]
        out.append(word)
        after = word.lower() in _CONJUNCTIONS and len(out) > 1
    return " ".join(out)


def _cuts_modifier(run: list[_Token], b: int, lang: str) -> bool:
    """An English span ending on a modifier whose noun comes next ("finished" before "work")."""
    if lang != "en" or b + 1 >= len(run) or not run[b + 1].content:
        return False
    word = run[b].word
    return word in _MODIFIERS_EN or _MODIFIER_EN_RE.search(word) is not None


def _names(g: _Group) -> set[str]:
    """Words written with a capital inside a sentence somewhere in the group (Instagram)."""
    names = set()
    for text, runs in zip(g.texts, g.segments, strict=True):
        tokens = [t for run in runs for t in run]
        names |= {t.word for t in tokens[1:] if text[t.start : t.start + 1].isupper()}
    return names


def _acronym(surface: str) -> bool:
    first = surface.split()[0]
    return len(first) > 1 and first.isupper()


def _best(
    g: _Group,
    sources: Sequence[int],
    weight: dict[str, float],
    quote_lemmas: set[str],
    foreign: Callable[[str], bool] | None,
) -> Label | None:
    """The best-scoring candidate of a group, as a label (see the module's docstring)."""
    shared_needed = len(g.texts) >= 2
    scored: list[tuple[bool, bool, float, str, _Candidate]] = []
    for candidate in _candidates(g, sources).values():
        content = candidate.content
        if len(set(content)) < len(content):
            continue  # "new, new": one lemma twice
        if foreign is not None and any(foreign(w) for w in candidate.words):
            continue  # "credit" in a French digest
        score = sum(weight.get(lemma, 0.0) for lemma in content) / math.sqrt(len(candidate.key))
        score *= 1 + REPEAT_BONUS * (len(candidate.sentences) - 1)
        if quote_lemmas and set(content) <= quote_lemmas:
            score *= 1 + QUOTE_BONUS
        if candidate.finite_edge:
            score *= FINITE_EDGE
        if candidate.cut_modifier:
            score *= CUT_MODIFIER
        if candidate.clause:
            score *= CLAUSE
        # A theme is named by what its answers share, not by one long answer.
        if shared_needed and all(g.df[lemma] < 2 for lemma in content):
            score *= 0.5
        # One word ("Temps") names a theme only when its sentences hold no phrase at all.
        lone = len(candidate.key) < 2 or len(candidate.surfaces.most_common(1)[0][0].split()) < 2
        # "Takes time": a label opens on a verb only when no other candidate is left.
        scored.append((candidate.verb_start, lone, score, candidate.key[0], candidate))
    if not scored:
        return None
    scored.sort(key=lambda s: (s[0], s[1], -s[2], s[3]))
    chosen = scored[0][4]
    surface = _coordinated(chosen.surfaces.most_common(1)[0][0])
    return Label(surface[:1].upper() + surface[1:], surface, g.langs[min(chosen.sentences)])


def fallback_label(text: str) -> str:
    """A label from a sentence without any phrase to offer: its first words, none dangling."""
    words = text.split()[:MAX_WORDS]
    while len(words) > 1 and words[-1].lower().strip(".,;:!?…") in _NOT_CONTENT:
        words.pop()
    label = " ".join(words).rstrip(".,;:!?…")
    return label[:1].upper() + label[1:]
