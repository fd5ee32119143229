"""A digest as data: what the analysis finds, language-neutral (rendering translates).

Stored with each posted digest (:meth:`Digest.as_dict`) and read back with :func:`from_dict`;
fields added later have defaults, so digests stored before them still load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final

#: The bucket of every profession too small to be named, and of members whose profession was
#: not recognised (the professions' ``other`` key): "other professions" wherever it is shown.
OTHER: Final = "other"
#: Keys that are not a profession: "not given" and the mixed bucket of the others.
UNNAMED: Final = frozenset({"", OTHER})
#: How many shared and distinctive themes a digest shows (the rest stay in the exports).
SHOWN_SHARED: Final = 5
SHOWN_DISTINCTIVE: Final = 6


def real(key: str) -> bool:
    """Whether a profession key names one profession (not "not given", not the others)."""
    return key not in UNNAMED


@dataclass(frozen=True, slots=True)
class Quote:
    """A representative sentence, in its own language, credited by profession."""

    text: str
    lang: str
    #: Profession key; :data:`OTHER` when the profession has too few authors to be named
    #: safely, empty when the member gave none.
    profession: str
    name: str = ""
    #: The answer it comes from and its author (to erase with their data; never shown).
    answer: str = ""
    author: str = ""


@dataclass(frozen=True, slots=True)
class Theme:
    """Sentences that say the same thing, and who said it."""

    label: str
    keywords: tuple[str, ...]
    #: Authors by profession (professions too small to be named are under :data:`OTHER`).
    authors: Mapping[str, int]
    answers: int
    sentences: int
    quote: Quote
    score: float = 0.0
    langs: Mapping[str, int] = field(default_factory=dict)
    #: Professions among its authors (each small one counted; never "not given"); -1: unknown.
    professions: int = -1

    @property
    def author_count(self) -> int:
        """Authors behind the theme."""
        return sum(self.authors.values())

    @property
    def profession_count(self) -> int:
        """Professions behind the theme ("not given" is not one)."""
        if self.professions >= 0:
            return self.professions
        return sum(1 for key in self.authors if real(key))


@dataclass(frozen=True, slots=True)
class Distinctive:
    """A theme one profession raises far more than the others."""

    profession: str
    theme: Theme
    authors: int
    total: int
    elsewhere: int
    elsewhere_total: int

    @property
    def share(self) -> float:
        """Share of the profession's authors who raised it."""
        return self.authors / self.total if self.total else 0.0

    @property
    def share_elsewhere(self) -> float:
        """Share of the other professions' authors who raised it."""
        return self.elsewhere / self.elsewhere_total if self.elsewhere_total else 0.0


@dataclass(frozen=True, slots=True)
class Merged:
    """A sub-question theme already shown as a shared or distinctive theme (shown once)."""

    #: ``shared`` or ``distinctive``, and the theme's place there (0: the first).
    section: str
    index: int
    #: Its place among the sub-question's themes (0: the most cited).
    rank: int
    #: Authors who said so in answer to the sub-question.
    authors: int


@dataclass(frozen=True, slots=True)
class SubQuestion:
    """The top themes of the answers to one sub-question ("what is missing?")."""

    question: str
    kind: str
    #: Themes shown under the sub-question (those not shown elsewhere already).
    themes: tuple[Theme, ...]
    merged: tuple[Merged, ...] = ()


@dataclass(frozen=True, slots=True)
class Agreement:
    """A viewpoint that drew approval across professions."""

    quote: Quote
    approvals: int
    professions: int


@dataclass(frozen=True, slots=True)
class Participation:
    """Who took part, and how."""

    answers: int
    comments: int
    reactions: int
    members: int
    #: Answers by profession key, most first (small professions under :data:`OTHER`, then
    #: "not given" under ``""``).
    by_profession: Mapping[str, int]
    #: Authors by profession key.
    authors_by_profession: Mapping[str, int]
    by_language: Mapping[str, int]
    #: Comments by profession key (for the chart).
    comments_by_profession: Mapping[str, int] = field(default_factory=dict)
    #: Professions heard (each small one counted; never "not given"); -1: unknown.
    heard: int = -1

    @property
    def professions(self) -> int:
        """Professions heard."""
        if self.heard >= 0:
            return self.heard
        return sum(1 for key in self.by_profession if real(key))

    @property
    def unstated(self) -> int:
        """Answers whose author gave no profession."""
        return self.by_profession.get("", 0)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A question the host may add to the bank; worded at render time, in the circle's language."""

    kind: str  # "crux" | "missing" | "distinctive" | "shared" | "not_heard" | "generic"
    label: str = ""
    profession: str = ""
    #: A crux's other side (the profession that agrees least; ``profession`` agrees most).
    other: str = ""


@dataclass(frozen=True, slots=True)
class VoteCount:
    """How one profession (or "other professions") voted on a statement."""

    profession: str
    agree: int
    disagree: int
    passed: int

    @property
    def votes(self) -> int:
        """Every vote, passes included."""
        return self.agree + self.disagree + self.passed


@dataclass(frozen=True, slots=True)
class VoteEntry:
    """A ranked statement with its votes by profession (most votes first, the others last)."""

    statement_id: int
    text: str
    voters: int
    consensus: float
    spread: float
    counts: tuple[VoteCount, ...]
    #: ``member:<id>`` when a member proposed it (to erase with their data; never shown).
    author: str = ""


@dataclass(frozen=True, slots=True)
class Votes:
    """The round's statements where professions agree (bridges) and where they differ (cruxes).

    A profession with fewer voters than the guard is counted under :data:`OTHER`; a statement
    with fewer than ``min_voters`` voters from ``min_professions`` professions is not ranked.
    """

    agree: tuple[VoteEntry, ...] = ()
    differ: tuple[VoteEntry, ...] = ()
    #: Statements open to votes, members who voted on any, and statements ranked.
    statements: int = 0
    voters: int = 0
    ranked: int = 0
    min_voters: int = 0
    min_professions: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return asdict(self)


def votes_from_dict(data: Mapping[str, Any]) -> Votes:
    """Votes back from their plain data (empty data: no votes)."""

    def entry(e: Mapping[str, Any]) -> VoteEntry:
        return VoteEntry(**{**e, "counts": tuple(VoteCount(**c) for c in e["counts"])})

    return Votes(
        agree=tuple(entry(e) for e in data.get("agree", ())),
        differ=tuple(entry(e) for e in data.get("differ", ())),
        statements=int(data.get("statements", 0)),
        voters=int(data.get("voters", 0)),
        ranked=int(data.get("ranked", 0)),
        min_voters=int(data.get("min_voters", 0)),
        min_professions=int(data.get("min_professions", 0)),
    )


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything a digest shows, language-neutral (rendering translates)."""

    prompt: str
    participation: Participation
    shared: tuple[Theme, ...]
    distinctive: tuple[Distinctive, ...]
    sub_questions: tuple[SubQuestion, ...]
    agreement: tuple[Agreement, ...]
    not_heard: tuple[str, ...]
    follow_up: FollowUp
    #: Answer ids quoted anywhere (so erasing a member can find their quotes).
    quoted: tuple[str, ...] = ()
    #: Answers a round needs before themes appear, when this one has fewer; 0 otherwise.
    themes_from: int = 0
    #: Where professions agree and differ on the round's statements (no votes: empty).
    votes: Votes = field(default_factory=Votes)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return asdict(self)


@dataclass(slots=True)
class Extras:
    """Counts the analysis cannot see in answers alone."""

    comments: int = 0
    reactions: int = 0
    #: Members who took part in any way (answer, comment, reaction).
    members: int = 0
    comments_by_profession: Mapping[str, int] = field(default_factory=dict)


def from_dict(data: Mapping[str, Any]) -> Digest:
    """A digest back from :meth:`Digest.as_dict` (stored digests)."""

    def quote(q: Mapping[str, Any]) -> Quote:
        return Quote(**q)

    def theme(t: Mapping[str, Any]) -> Theme:
        return Theme(**{**t, "keywords": tuple(t["keywords"]), "quote": quote(t["quote"])})

    return Digest(
        prompt=data["prompt"],
        participation=Participation(**data["participation"]),
        shared=tuple(theme(t) for t in data["shared"]),
        distinctive=tuple(
            Distinctive(**{**d, "theme": theme(d["theme"])}) for d in data["distinctive"]
        ),
        sub_questions=tuple(
            SubQuestion(
                s["question"],
                s["kind"],
                tuple(theme(t) for t in s["themes"]),
                tuple(Merged(**m) for m in s.get("merged", ())),
            )
            for s in data["sub_questions"]
        ),
        agreement=tuple(Agreement(**{**a, "quote": quote(a["quote"])}) for a in data["agreement"]),
        not_heard=tuple(data["not_heard"]),
        follow_up=FollowUp(**data["follow_up"]),
        quoted=tuple(data.get("quoted", ())),
        themes_from=int(data.get("themes_from", 0)),
        votes=votes_from_dict(data.get("votes") or {}),
    )
