"""The courtesy rules engine: one message in, one decision out.

>>> from cogs.courtesy.engine import evaluate
>>> evaluate("Appelez-moi au 06 12 34 56 78").redacted_text
'Appelez-moi au •• •• •• •• ••'

Pure and fast (well under a millisecond for a 300-character message): no I/O, no clock. The
stateful rules (flooding, repeated messages) use an :class:`~cogs.courtesy.activity.Activity`
and the time the caller passes in; link spam from newcomers needs the member's first-seen time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from cogs.courtesy.activity import Activity
from cogs.courtesy.context import (
    Frame,
    aimed_at_thing,
    excused,
    read_frame,
    self_directed,
)
from cogs.courtesy.lexicon import Lexicon, WordHit, allow_lexicon, builtin_lexicon, extra_lexicon
from cogs.courtesy.normalize import Mapped, Token, fold, light, merge_glued, tokenize
from cogs.courtesy.pii import links, mentions, personal_details
from cogs.courtesy.rules import Action, Category, Settings, default_settings
from cogs.courtesy.semantic import CachedEncoder, Judgement, default_model

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from cogs.courtesy.semantic import Encoder, Model

MASK: Final = "•"
#: Families the word rules judge well when they see the words.
_WORDY: Final = frozenset({Category.INSULT, Category.RUDE, Category.PROFANITY})
#: Families whose words may be someone else's (quoted) or aimed at no one.
_CONTEXTUAL: Final = frozenset(
    {Category.INSULT, Category.RUDE, Category.PROFANITY, Category.THREAT, Category.HATE}
)
_PII_RULES: Final = {
    "phone": "pii.phone",
    "email": "pii.email",
    "address": "pii.address",
    "iban": "pii.iban",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that matched, where, and on what."""

    rule: str
    category: Category
    action: Action
    #: Span in the original text (empty for rules about the whole message).
    start: int
    end: int
    #: The original text of the span.
    excerpt: str
    #: The list entry, the kind of personal detail, or the figure that tripped the rule.
    term: str
    #: The insult cue that made the word count (``""``: the word stood on its own).
    cue: str | None = None
    #: Who decided: ``rules`` (a word list or a pattern), or the semantic layer's ``gate`` or
    #: ``encoder`` (see :mod:`cogs.courtesy.semantic`).
    layer: str = "rules"
    #: The semantic layer's probability for this family (``None`` for the rules).
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What the rules decided about a message."""

    action: Action
    category: Category
    rule: str | None
    #: The text with personal details masked, when there were any.
    redacted_text: str | None = None
    #: Every rule that matched, the deciding one first.
    reasons: tuple[Reason, ...] = ()
    #: Strike weight of the deciding rule.
    strikes: float = 0.0
    #: What the semantic layer thought, even when it did not act (``None``: it did not run).
    semantic: Judgement | None = None
    #: The member quoted harsh words to report them or explain the law: allowed, and they
    #: may want ``/report``.
    reported: bool = False

    @property
    def layer(self) -> str | None:
        """Who decided (``rules``, ``gate`` or ``encoder``), if anything acted."""
        return self.reasons[0].layer if self.reasons else None

    @property
    def score(self) -> float | None:
        """The deciding family's probability, when the semantic layer decided."""
        return self.reasons[0].score if self.reasons else None

    @property
    def acted(self) -> bool:
        """Anything other than ``allow``."""
        return self.action is not Action.ALLOW

    def as_json(self) -> dict[str, Any]:
        """The batch tool's fields."""
        data: dict[str, Any] = {
            "action": str(self.action),
            "category": str(self.category),
            "rule": self.rule,
        }
        if self.redacted_text is not None:
            data["redacted_text"] = self.redacted_text
        if self.reasons:
            data["layer"] = self.layer
            if self.score is not None:
                data["score"] = round(self.score, 3)
        return data


ALLOW: Final = Decision(Action.ALLOW, Category.OK, None)


@dataclass(slots=True)
class _Hit:
    rule: str
    start: int
    end: int
    term: str
    cue: str | None = None
    first: int = -1
    last: int = -1
    conditional: bool = False
    layer: str = "rules"
    score: float | None = None


class Engine:
    """Compiled rules for one set of settings (a circle's, or the defaults)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        model: Model | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        """Compile ``settings``.

        ``model`` is the semantic layer (the shipped one unless given; none when the
        settings turn it off or it was not built), ``encoder`` the sentence encoder it calls
        for the messages its gate does not let through (the bundled one, loaded at first use;
        its vectors of texts seen again are remembered, for every circle's engine at once).
        """
        self.settings = settings or default_settings()
        self.model = (model or default_model()) if self.settings.semantic else None
        self.encoder: Encoder = encoder or _BUNDLED_ENCODER
        self._examples: npt.NDArray[np.float32] | None = None
        # A family whose every word rule the circle allows is not policed by the model either.
        families: dict[Category, set[Action]] = {}
        for rule in self.settings.rules.values():
            if not rule.id.startswith("semantic."):
                families.setdefault(rule.category, set()).add(rule.action)
        self._allowed_families = frozenset(
            family for family, actions in families.items() if actions == {Action.ALLOW}
        )
        self.lexicon = builtin_lexicon()
        self.extra: Lexicon | None = (
            extra_lexicon(self.settings.words) if self.settings.words else None
        )
        self.allow = allow_lexicon(self.settings.allow) if self.settings.allow else None
        unknown = (self.lexicon.rules | (self.extra.rules if self.extra else set())) - set(
            self.settings.rules
        )
        if unknown:
            raise ValueError(f"word lists use unknown rules: {', '.join(sorted(unknown))}")

    def _allowed_spans(self, tokens: list[Token]) -> list[tuple[int, int]]:
        """The token spans of the circle's allowed phrases."""
        return [(h.first, h.last) for h in self.allow.scan(tokens)] if self.allow else []

    def _unallowed(
        self, tokens: list[Token], text: str, spans: list[tuple[int, int]] | None
    ) -> tuple[list[str], str]:
        """The words and text the semantic layer reads: the circle's allowed phrases left out.

        ``spans`` are the allowed phrases when the word rules already looked for them
        (``None``: they did not, and they are looked for here).
        """
        words = [t.text for t in tokens]
        if self.allow is None:
            return words, text
        if spans is None:
            spans = self._allowed_spans(tokens)
        if not spans:
            return words, text
        inside = {i for first, last in spans for i in range(first, last + 1)}
        cut = [(tokens[first].start, tokens[last].end) for first, last in spans]
        for start, end in sorted(cut, reverse=True):
            text = text[:start] + " " + text[end:]
        return [w for i, w in enumerate(words) if i not in inside], text

    def learn(self, texts: Sequence[str]) -> None:
        """Messages a host approved in this circle: the semantic layer allows similar ones."""
        if self.model is None or not texts:
            return
        import numpy as np  # the semantic layer's: not loaded where it stays off

        vectors = np.asarray(self.encoder(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        self._examples = vectors if self._examples is None else np.vstack([self._examples, vectors])

    def _knows(self, word: str) -> bool:
        return self.lexicon.knows(word) or (self.extra is not None and self.extra.knows(word))

    def new_activity(self) -> Activity:
        """A tracker sized for these settings' flood and repeat windows."""
        return Activity(
            timedelta(seconds=self.settings.flood_seconds),
            timedelta(minutes=self.settings.repeat_minutes),
        )

    def evaluate(
        self,
        text: str,
        lang: str | None = None,
        *,
        author: str | None = None,
        now: datetime | None = None,
        joined_at: datetime | None = None,
        activity: Activity | None = None,
        posted_at: datetime | None = None,
    ) -> Decision:
        """Decide what to do with ``text``.

        ``lang`` (``fr``/``en``), when known, keeps the other language's words that are
        innocent in this one (``con``, ``bite``, ``retard``) from counting at all. ``activity``,
        ``author`` and ``now`` enable the flood and repeat rules (and record the message, as
        posted at ``posted_at`` when given, else at ``now``); ``joined_at`` (when the member
        was first seen) with ``now`` enables link spam.
        """
        lit, hits, found_links, tokens = self._read(text)
        words, allowed = self._word_hits(tokens, lang)
        frame = read_frame(lit.text, fold(lit)) if words else None
        reported = False
        for hit in words:
            if frame is not None and self._excused(frame, tokens, hit):
                reported = reported or frame.speaks_of_words
                continue
            hits.append(hit)
        hits.extend(
            self._message_hits(
                lit.text, tokens, found_links, author, now, joined_at, activity, posted_at
            )
        )
        judgement = None
        if self.model is not None:
            kept, said = self._unallowed(tokens, lit.text, allowed)
            judgement = self.model.judge(
                kept,
                said,
                self.encoder,
                self.settings.semantic_thresholds,
                self._examples,
            )
            if judgement.family in _CONTEXTUAL:
                frame = frame or read_frame(lit.text, fold(lit))
            if judgement.family in _CONTEXTUAL and frame is not None and frame.speaks_of_words:
                reported = True
            elif (
                judgement.family is not Category.OK
                and judgement.family not in self._allowed_families
                and not any(self.settings.rules[h.rule].category is judgement.family for h in hits)
                and not (hits and judgement.family in _WORDY)
            ):
                # The rules named this family already, or judged the message's words (a
                # swear word is not an insult because the model leans that way): their rule,
                # explained by its word, decides. Meaning beyond words (threats, hatred,
                # spam) still adds to it.
                hits.append(
                    _Hit(
                        f"semantic.{judgement.family}",
                        0,
                        0,
                        f"{judgement.family} {judgement.score:.2f}",
                        layer=judgement.layer,
                        score=judgement.score,
                    )
                )
        if not hits:
            return replace(ALLOW, semantic=judgement, reported=reported)
        return replace(self._decide(text, hits, judgement), reported=reported)

    def _excused(self, frame: Frame, tokens: list[Token], hit: _Hit) -> bool:
        """A word hit the context takes back: quoted, self-directed, aimed at a thing."""
        category = self.settings.rules[hit.rule].category
        if category not in _CONTEXTUAL or hit.first < 0:
            return False
        if excused(frame, tokens, hit.first, hit.start, hit.end):
            return True
        if category not in (Category.INSULT, Category.RUDE):
            return False
        return self_directed(tokens, hit.first, hit.last) or aimed_at_thing(tokens, hit.first)

    def _read(
        self, text: str
    ) -> tuple[Mapped, list[_Hit], list[tuple[int, int, str]], list[Token]]:
        """The light text, its personal details, its links and its words (disguises undone)."""
        lit = light(text)
        folded = fold(lit)
        hits: list[_Hit] = []
        skip: list[tuple[int, int]] = []
        for found in personal_details(lit.text):
            start, end = lit.span(found.start, found.end)
            term = f"{found.kind} {found.detail}" if found.detail else found.kind
            hits.append(_Hit(_PII_RULES[found.kind], start, end, term))
            skip.append((start, end))
        found_links = links(lit.text)
        for start, end, _domain in found_links:
            skip.append(lit.span(start, end))
        tokens = merge_glued(tokenize(folded, skip=skip), folded.text, self._knows)
        return lit, hits, found_links, tokens

    def words(self, text: str) -> list[str]:
        """The words of ``text`` as the rules and the semantic layer read them."""
        return [token.text for token in self._read(text)[3]]

    # ------------------------------------------------------------ words

    def _word_hits(
        self, tokens: list[Token], lang: str | None
    ) -> tuple[list[_Hit], list[tuple[int, int]] | None]:
        """The word rules' hits, and the allowed phrases if they had to be looked for."""
        if not tokens:
            return [], None
        found = self.lexicon.scan(tokens)
        if self.extra is not None:
            found.extend(self.extra.scan(tokens, cue_source=self.lexicon))
        if lang in ("fr", "en"):
            found = [h for h in found if not self._foreign_innocent(h, lang)]
        if not found:
            return [], None
        phrases = [(h.first, h.last) for h in found if h.last > h.first]
        allowed = self._allowed_spans(tokens)
        hits: list[_Hit] = []
        for hit in found:
            if any(a <= hit.first and hit.last <= b for a, b in allowed):
                continue
            if hit.conditional and any(
                a <= hit.first and hit.last <= b and (a, b) != (hit.first, hit.last)
                for a, b in phrases
            ):
                continue  # "kick ass", "trou du cul": the phrase decides, not its word
            hits.append(
                _Hit(
                    hit.rule,
                    tokens[hit.first].start,
                    tokens[hit.last].end,
                    hit.term,
                    hit.cue,
                    hit.first,
                    hit.last,
                    hit.conditional,
                )
            )
        return hits, allowed

    @staticmethod
    def _foreign_innocent(hit: WordHit, lang: str) -> bool:
        """A word of the other language, innocent in the message's own language."""
        return hit.strict and hit.lang not in ("", lang)

    # ------------------------------------------------------------ whole message

    def _message_hits(
        self,
        text: str,
        tokens: list[Token],
        found_links: list[tuple[int, int, str]],
        author: str | None,
        now: datetime | None,
        joined_at: datetime | None,
        activity: Activity | None,
        posted_at: datetime | None,
    ) -> list[_Hit]:
        settings = self.settings
        hits: list[_Hit] = []
        mass, named = mentions(text)
        if mass or named >= settings.mentions_max:
            hits.append(_Hit("mentions.mass", 0, 0, "@everyone" if mass else f"{named} mentions"))
        outside = [d for _, _, d in found_links if not _allowed_domain(d, settings.allowed_domains)]
        if outside:
            newcomer = (
                joined_at is not None
                and now is not None
                and now - joined_at < timedelta(hours=settings.links_new_member_hours)
            )
            if newcomer or len(outside) > settings.links_max:
                domain = found_links[0][2]
                hits.append(
                    _Hit("spam.link", 0, 0, domain if newcomer else f"{len(outside)} links")
                )
        if activity is not None and author is not None and now is not None:
            fingerprint = " ".join([t.forms[0] for t in tokens]) or text.strip()
            burst = activity.record(author, fingerprint, posted_at or now)
            if fingerprint and burst.repeats >= settings.repeat_count:
                hits.append(_Hit("flood.repeat", 0, 0, f"{burst.repeats}×"))
            if burst.recent > settings.flood_messages:
                hits.append(_Hit("flood.rate", 0, 0, f"{burst.recent}/{settings.flood_seconds}s"))
        return hits

    # ------------------------------------------------------------ decision

    def _decide(
        self, text: str, hits: Iterable[_Hit], judgement: Judgement | None = None
    ) -> Decision:
        reasons: list[Reason] = []
        masked: list[tuple[int, int]] = []
        for hit in hits:
            rule = self.settings.rules[hit.rule]
            if rule.action is Action.ALLOW:
                continue
            reasons.append(
                Reason(
                    rule.id,
                    rule.category,
                    rule.action,
                    hit.start,
                    hit.end,
                    text[hit.start : hit.end],
                    hit.term,
                    hit.cue,
                    hit.layer,
                    hit.score,
                )
            )
            if rule.action is Action.REDACT:
                masked.append((hit.start, hit.end))
        if not reasons:
            return replace(ALLOW, semantic=judgement)
        reasons = _unique(reasons)
        # "Putain de bordel de merde": one reason per phrase, not one more per word in it.
        reasons = [
            r
            for r in reasons
            if not any(
                o is not r
                and o.rule == r.rule
                and o.start <= r.start
                and r.end <= o.end
                and (o.end - o.start) > (r.end - r.start)
                for o in reasons
            )
        ]
        reasons.sort(
            key=lambda r: (-r.action.severity, -self.settings.rules[r.rule].strikes, r.start)
        )
        top = reasons[0]
        return Decision(
            action=top.action,
            category=top.category,
            rule=top.rule,
            redacted_text=redact(text, masked) if masked else None,
            reasons=tuple(reasons),
            strikes=self.settings.rules[top.rule].strikes,
            semantic=judgement,
        )


def _unique(reasons: list[Reason]) -> list[Reason]:
    seen: set[tuple[str, int, int]] = set()
    out: list[Reason] = []
    for reason in reasons:
        key = (reason.rule, reason.start, reason.end)
        if key not in seen:
            seen.add(key)
            out.append(reason)
    return out


def _allowed_domain(domain: str, allowed: tuple[str, ...]) -> bool:
    return any(domain == a or domain.endswith("." + a) for a in allowed)


def redact(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with every non-blank character of ``spans`` replaced by a mask."""
    chars = list(text)
    for start, end in spans:
        for index in range(start, min(end, len(chars))):
            if not chars[index].isspace():
                chars[index] = MASK
    return "".join(chars)


def _bundled_encoder(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    from cogs.digest.clustering import default_encoder

    return default_encoder()(texts)


#: One for the whole process: a text seen in one circle is not encoded again in another.
_BUNDLED_ENCODER: Final = CachedEncoder(_bundled_encoder)


@cache
def default_engine() -> Engine:
    """The engine with the shipped rules."""
    return Engine()


def evaluate(
    text: str,
    lang: str | None = None,
    *,
    author: str | None = None,
    now: datetime | None = None,
    joined_at: datetime | None = None,
    activity: Activity | None = None,
    posted_at: datetime | None = None,
) -> Decision:
    """:meth:`Engine.evaluate` with the shipped rules."""
    return default_engine().evaluate(
        text,
        lang,
        author=author,
        now=now,
        joined_at=joined_at,
        activity=activity,
        posted_at=posted_at,
    )
