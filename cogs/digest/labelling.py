"""Naming themes: c-TF-IDF keywords, and a label when no keyword stands out."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

from cogs.digest.language import _words, fold

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


def _fallback_label(text: str) -> str:
    words = text.split()
    return " ".join(words[:5]) + ("…" if len(words) > 5 else "")
