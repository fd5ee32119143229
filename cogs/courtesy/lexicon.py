"""The curated word lists, compiled for whole-word matching over normalised tokens.

The lists are data (``data/lexicon_*.toml``, documented in ``lexicon_en.toml``). Each entry is a
sequence of *slots* (a set of folded words, a gap of up to N words, or a clause anchor) indexed
by its first word, so a message is scanned in one pass over its tokens with dictionary look-ups.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

from cogs.courtesy.normalize import MASKS, Token, fold, light, squeeze, tokenize

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
LEXICON_FILES: Final = ("lexicon_en.toml", "lexicon_fr.toml")

NeedsCue = Literal["no", "any", "strict"]
_NEEDS_CUE: Final = ("no", "any", "strict")
_MIN_MASK_VISIBLE: Final = 2
_MIN_HIDDEN_WORD: Final = 4


class LexiconError(ValueError):
    """A word list is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Slot:
    """One position of an entry: alternatives, or a gap of up to ``gap`` words."""

    words: frozenset[str] = frozenset()
    squeezed: frozenset[str] = frozenset()
    gap: int = 0


@dataclass(frozen=True, slots=True)
class Group:
    """The settings shared by the entries of one ``[[terms]]`` table."""

    rule: str
    lang: str
    needs_cue: NeedsCue = "no"
    otherwise: str | None = None
    not_before: frozenset[str] = frozenset()
    gap_stops: frozenset[str] = frozenset()
    extra_cues: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Entry:
    """A word, phrase or pattern of a group."""

    term: str
    slots: tuple[Slot, ...]
    group: Group
    at_start: bool = False
    at_end: bool = False
    #: The folded words of a word entry (the key of its extra cues).
    key: str = ""

    @property
    def single(self) -> bool:
        """One plain word (no pattern, no anchor)."""
        return len(self.slots) == 1 and not self.at_start and not self.at_end


@dataclass(frozen=True, slots=True)
class Cue:
    """Words that make the next word (within ``reach``) an insult."""

    words: tuple[str, ...]
    reach: int
    lang: str
    #: Counts for plain insults only (never for words innocent elsewhere).
    mild_only: bool


@dataclass(frozen=True, slots=True)
class WordHit:
    """A match of a list entry over tokens ``first``..``last``."""

    rule: str
    first: int
    last: int
    term: str
    cue: str | None = None
    #: The entry needed a cue (found, or missing and replaced by its ``otherwise`` rule).
    conditional: bool = False
    #: The language of the list, and whether the word is innocent elsewhere (strict cue).
    lang: str = ""
    strict: bool = False


def _tokens_of(text: str) -> list[str]:
    """The folded words of a list entry, as the message tokenizer would cut them."""
    return [t.text for t in tokenize(fold(light(text)))]


def _plurals(word: str) -> set[str]:
    forms = {word}
    if word.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(word + "es")
    else:
        forms.add(word + "s")
    return forms


def _slot(words: Iterable[str]) -> Slot:
    frozen = frozenset(words)
    return Slot(frozen, frozenset(squeeze(w) for w in frozen))


def _needs_cue(value: str, where: str) -> NeedsCue:
    if value == "no":
        return "no"
    if value == "any":
        return "any"
    if value == "strict":
        return "strict"
    raise LexiconError(f"{where}: needs_cue must be one of {', '.join(_NEEDS_CUE)}")


def parse_pattern(
    pattern: str, classes: Mapping[str, frozenset[str]]
) -> tuple[tuple[Slot, ...], bool, bool]:
    """Compile ``a|b @class ~2 word $`` into slots and its clause anchors."""
    parts = pattern.split()
    at_start = bool(parts) and parts[0] == "^"
    at_end = bool(parts) and parts[-1] == "$"
    parts = parts[1 if at_start else 0 : -1 if at_end else None]
    slots: list[Slot] = []
    for part in parts:
        if part.startswith("~"):
            if not part[1:].isdigit() or int(part[1:]) < 1:
                raise LexiconError(f"pattern {pattern!r}: bad gap {part!r}")
            if not slots:
                raise LexiconError(f"pattern {pattern!r}: cannot start with a gap")
            slots.append(Slot(gap=int(part[1:])))
            continue
        words: set[str] = set()
        for alternative in part.split("|"):
            if alternative.startswith("@"):
                name = alternative[1:]
                if name not in classes:
                    raise LexiconError(f"pattern {pattern!r}: unknown class @{name}")
                words |= classes[name]
            else:
                folded = _tokens_of(alternative)
                if len(folded) != 1:
                    raise LexiconError(
                        f"pattern {pattern!r}: {alternative!r} is not one word "
                        "(write multi-word alternatives as separate patterns)"
                    )
                words.add(folded[0])
        slots.append(_slot(words))
    if not slots or slots[-1].gap:
        raise LexiconError(f"pattern {pattern!r}: must start and end with words")
    return tuple(slots), at_start, at_end


@dataclass(slots=True)
class Bucket:
    """The entries starting with one word, split by what must come next."""

    singles: list[Entry] = field(default_factory=list)
    by_next: dict[str, list[Entry]] = field(default_factory=dict)
    gapped: list[Entry] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        """File an entry under its second word (or as a one-word or gapped entry)."""
        if len(entry.slots) == 1:
            self.singles.append(entry)
        elif entry.slots[1].gap:
            self.gapped.append(entry)
        else:
            second = entry.slots[1]
            for word in second.words | second.squeezed:
                self.by_next.setdefault(word, []).append(entry)


class Lexicon:
    """Entries indexed by their first and second words, plus the cues of their languages."""

    def __init__(self) -> None:
        self.first: dict[str, Bucket] = {}
        self.first_squeezed: dict[str, Bucket] = {}
        #: Single words by length, for masked tokens (``f*ck``).
        self.by_length: dict[int, set[str]] = {}
        self.cues: dict[str, list[Cue]] = {}
        self.entries: list[Entry] = []
        self.rules: set[str] = set()

    # ------------------------------------------------------------ building

    def add(self, entry: Entry) -> None:
        """Index one entry."""
        self.entries.append(entry)
        self.rules.add(entry.group.rule)
        if entry.group.otherwise:
            self.rules.add(entry.group.otherwise)
        first = entry.slots[0]
        for word in first.words:
            self.first.setdefault(word, Bucket()).add(entry)
            if entry.single:
                self.by_length.setdefault(len(word), set()).add(word)
        for word in first.squeezed:
            self.first_squeezed.setdefault(word, Bucket()).add(entry)

    def add_words(self, group: Group, words: Iterable[str], *, plurals: bool = True) -> None:
        """Add plain words and phrases (one-word entries also match their plural)."""
        for term in words:
            tokens = _tokens_of(term)
            if not tokens:
                raise LexiconError(f"{group.rule}: empty entry {term!r}")
            key = " ".join(tokens)
            if len(tokens) == 1:
                forms = _plurals(tokens[0]) if plurals else {tokens[0]}
                self.add(Entry(term, (_slot(forms),), group, key=key))
            else:
                self.add(Entry(term, tuple(_slot([t]) for t in tokens), group, key=key))

    def add_cue(self, text: str, reach: int, lang: str, *, mild_only: bool) -> None:
        """Register a cue."""
        words = tuple(_tokens_of(text))
        if not words or reach < 1:
            raise LexiconError(f"cue {text!r}: needs words and a reach of at least 1")
        self.cues.setdefault(words[0], []).append(Cue(words, reach, lang, mild_only))

    def load(self, data: Mapping[str, Any], source: str) -> None:
        """Add one lexicon file's tables."""
        lang = str(data.get("lang", ""))
        for key, mild in (("cues", False), ("cues_mild", True)):
            for text, reach in dict(data.get(key, {})).items():
                self.add_cue(str(text), int(reach), lang, mild_only=mild)
        classes: dict[str, frozenset[str]] = {}
        for name, members in dict(data.get("classes", {})).items():
            folded: set[str] = set()
            for member in members:
                tokens = _tokens_of(str(member))
                if len(tokens) != 1:
                    raise LexiconError(f"{source}: class @{name}: {member!r} is not one word")
                folded.add(tokens[0])
            classes[str(name)] = frozenset(folded)
        for index, table in enumerate(data.get("terms", [])):
            self._load_terms(table, lang, classes, f"{source} [[terms]] #{index + 1}")

    def _load_terms(
        self, table: Mapping[str, Any], lang: str, classes: Mapping[str, frozenset[str]], where: str
    ) -> None:
        known = {
            "rule",
            "needs_cue",
            "otherwise",
            "words",
            "patterns",
            "extra_cues",
            "not_before",
            "gap_stops",
        }
        unknown = set(table) - known
        if unknown:
            raise LexiconError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if "rule" not in table:
            raise LexiconError(f"{where}: missing rule")
        needs_cue = _needs_cue(str(table.get("needs_cue", "no")), where)
        extra: dict[str, tuple[tuple[str, ...], ...]] = {}
        for word, cues in dict(table.get("extra_cues", {})).items():
            key = _tokens_of(str(word))
            extra[" ".join(key)] = tuple(tuple(_tokens_of(str(c))) for c in cues)
        group = Group(
            rule=str(table["rule"]),
            lang=lang,
            needs_cue=needs_cue,
            otherwise=str(table["otherwise"]) if table.get("otherwise") else None,
            not_before=frozenset(w for t in table.get("not_before", []) for w in _tokens_of(t)),
            gap_stops=frozenset(w for t in table.get("gap_stops", []) for w in _tokens_of(t)),
            extra_cues=extra,
        )
        self.add_words(group, [str(w) for w in table.get("words", [])])
        for pattern in table.get("patterns", []):
            slots, at_start, at_end = parse_pattern(str(pattern), classes)
            self.add(Entry(str(pattern), slots, group, at_start, at_end))

    # ------------------------------------------------------------ matching

    def scan(self, tokens: list[Token], cue_source: Lexicon | None = None) -> list[WordHit]:
        """Every entry matched in the tokens (cues come from ``cue_source``, default: self)."""
        cues = cue_source if cue_source is not None else self
        self._resolve_masks(tokens)
        hits: list[WordHit] = []
        cue_ends: list[tuple[int, Cue]] | None = None
        count = len(tokens)
        for index, token in enumerate(tokens):
            following = tokens[index + 1] if index + 1 < count else None
            if following is not None and following.brk:
                following = None
            candidates: list[Entry] = []
            for form in token.forms:
                bucket = self.first.get(form)
                if bucket is not None:
                    _gather(bucket, following, candidates)
            if token.squeezed is not None:
                bucket = self.first_squeezed.get(token.squeezed)
                if bucket is not None:
                    _gather(bucket, following, candidates)
            if token.joined and not candidates:
                candidates.extend(self._hidden_words(token))
            if not candidates:
                continue
            seen: set[int] = set()
            for entry in candidates:
                if id(entry) in seen:
                    continue
                seen.add(id(entry))
                last = self._match(entry, tokens, index)
                if last < 0:
                    continue
                group = entry.group
                if group.not_before and last + 1 < count:
                    after = tokens[last + 1]
                    if not after.brk and any(f in group.not_before for f in after.forms):
                        continue
                if group.needs_cue == "no":
                    hits.append(WordHit(group.rule, index, last, entry.term))
                    continue
                if cue_ends is None:
                    cue_ends = cues.find_cues(tokens)
                cue = self._cue_for(entry, tokens, index, cue_ends)
                strict = group.needs_cue == "strict"
                if cue is not None:
                    hits.append(
                        WordHit(group.rule, index, last, entry.term, cue, True, group.lang, strict)
                    )
                elif group.otherwise:
                    hits.append(
                        WordHit(
                            group.otherwise, index, last, entry.term, None, True, group.lang, strict
                        )
                    )
        return hits

    def knows(self, word: str) -> bool:
        """``word`` is a one-word entry of the lists."""
        bucket = self.first.get(word)
        return bucket is not None and any(e.single for e in bucket.singles)

    def _match(self, entry: Entry, tokens: list[Token], index: int) -> int:
        if entry.at_start and index > 0 and not tokens[index].brk:
            return -1
        last = self._match_from(entry, tokens, 1, index + 1)
        if last < 0:
            return -1
        if entry.at_end and last + 1 < len(tokens) and not tokens[last + 1].brk:
            return -1
        return last

    def _match_from(self, entry: Entry, tokens: list[Token], k: int, pos: int) -> int:
        """The last token index of a match of ``entry.slots[k:]`` starting at ``pos``."""
        slots = entry.slots
        if k == len(slots):
            return pos - 1
        slot = slots[k]
        if slot.gap:
            stops = entry.group.gap_stops
            for skip in range(slot.gap + 1):
                if skip:
                    skipped = pos + skip - 1
                    if skipped >= len(tokens) or tokens[skipped].brk:
                        break
                    if stops and any(f in stops for f in tokens[skipped].forms):
                        break
                end = self._match_from(entry, tokens, k + 1, pos + skip)
                if end >= 0:
                    return end
            return -1
        if pos >= len(tokens):
            return -1
        token = tokens[pos]
        if token.brk:
            return -1
        if any(f in slot.words for f in token.forms) or (
            token.squeezed is not None and token.squeezed in slot.squeezed
        ):
            return self._match_from(entry, tokens, k + 1, pos + 1)
        return -1

    def _resolve_masks(self, tokens: list[Token]) -> None:
        """Read masked words (``f*ck``, ``p*tain``) as the list word they hide, if any."""
        for token in tokens:
            if not token.masked or not any(c in MASKS for c in token.text):
                continue
            word = token.text
            hidden = sum(1 for c in word if c in MASKS)
            visible = len(word) - hidden
            if visible < _MIN_MASK_VISIBLE or hidden > visible:
                continue
            pattern = re.compile("".join("[a-z]" if c in MASKS else re.escape(c) for c in word))
            found = sorted(w for w in self.by_length.get(len(word), ()) if pattern.fullmatch(w))
            if found:
                token.forms = tuple(found)

    def _hidden_words(self, token: Token) -> list[Entry]:
        """List words inside letters joined from a spaced run (``fuckyou``)."""
        word = token.text
        found: list[Entry] = []
        for size in range(len(word), _MIN_HIDDEN_WORD - 1, -1):
            for start in range(len(word) - size + 1):
                bucket = self.first.get(word[start : start + size])
                for entry in bucket.singles if bucket is not None else ():
                    if entry.single and entry.group.needs_cue == "no":
                        found.append(entry)
            if found:
                return found
        return found

    # ------------------------------------------------------------ cues

    def find_cues(self, tokens: list[Token]) -> list[tuple[int, Cue]]:
        """Every cue in the message, with the index of its last word."""
        found: list[tuple[int, Cue]] = []
        for index, token in enumerate(tokens):
            for form in token.forms:
                for cue in self.cues.get(form, ()):
                    end = index + len(cue.words) - 1
                    if end < len(tokens) and all(
                        cue.words[k] in tokens[index + k].forms
                        and (k == 0 or not tokens[index + k].brk)
                        for k in range(1, len(cue.words))
                    ):
                        found.append((end, cue))
        return found

    def _cue_for(
        self,
        entry: Entry,
        tokens: list[Token],
        index: int,
        cue_ends: list[tuple[int, Cue]],
    ) -> str | None:
        group = entry.group
        for end, cue in cue_ends:
            if not 1 <= index - end <= cue.reach:
                continue
            if any(tokens[k].brk for k in range(end + 1, index + 1)):
                continue
            if group.needs_cue == "strict" and (cue.mild_only or cue.lang != group.lang):
                continue
            return " ".join(cue.words)
        for words in group.extra_cues.get(entry.key, ()):
            size = len(words)
            if (
                index >= size
                and all(words[k] in tokens[index - size + k].forms for k in range(size))
                and not any(tokens[k].brk for k in range(index - size + 1, index + 1))
            ):
                return " ".join(words)
        if group.needs_cue == "any" and _alone(tokens, index):
            return ""
        return None


def _gather(bucket: Bucket, following: Token | None, into: list[Entry]) -> None:
    into.extend(bucket.singles)
    into.extend(bucket.gapped)
    if following is not None and bucket.by_next:
        for form in following.forms:
            found = bucket.by_next.get(form)
            if found:
                into.extend(found)
        if following.squeezed is not None:
            into.extend(bucket.by_next.get(following.squeezed, ()))


def _alone(tokens: list[Token], index: int) -> bool:
    """The word is a clause of its own (``Idiot!``, ``Merci, crétin.``)."""
    starts = index == 0 or tokens[index].brk
    ends = index + 1 >= len(tokens) or tokens[index + 1].brk
    return starts and ends


@cache
def builtin_lexicon() -> Lexicon:
    """The shipped FR/EN lists, compiled once."""
    lexicon = Lexicon()
    for name in LEXICON_FILES:
        path = DATA_DIR / name
        with path.open("rb") as handle:
            lexicon.load(tomllib.load(handle), name)
    return lexicon


def extra_lexicon(words: Mapping[str, Sequence[str]]) -> Lexicon:
    """A lexicon of a circle's own words, by rule id."""
    lexicon = Lexicon()
    for rule, terms in words.items():
        lexicon.add_words(Group(rule=rule, lang=""), terms)
    return lexicon


def allow_lexicon(words: Iterable[str]) -> Lexicon:
    """Phrases that are never acted on."""
    lexicon = Lexicon()
    lexicon.add_words(Group(rule="allow", lang=""), words, plurals=False)
    return lexicon
