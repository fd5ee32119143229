"""What a digest says in the circle's language, whatever its form (Markdown, cards, the web
page, the exports): names of professions, credits, the lines of themes, the notes that keep one
story (a theme shown once, a small round's reason), the follow-up question.

Labels and member text passed in are escaped (or marked up) by the caller for its form.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.i18n import Translator
from bot.messenger import escape
from cogs.digest.result import OTHER, Digest, Distinctive, Merged, Quote, SubQuestion, Theme
from cogs.professions import tag_for_key


def title(t: Translator, number: int | None) -> str:
    """A digest's title: its round's number when it has one."""
    return t._("Digest — round #{n}", n=number) if number else t._("Digest")


def long_date(t: Translator, moment: datetime, timezone: str = "UTC") -> str:
    """A date as the circle reads it (``12 janvier 2026``, ``12 January 2026``)."""
    return format_date(moment.astimezone(ZoneInfo(timezone)), "long", locale=t.locale)


def profession_label(key: str, t: Translator) -> str:
    """A profession key as the circle reads it (small professions: "other professions")."""
    if key == OTHER:
        return t._("other professions")
    return tag_for_key(key).label(t.locale) if key else t._("profession not given")


def credit(q: Quote, t: Translator) -> str:
    """Who said it: a profession (and a name only if the member opted in)."""
    if not q.profession:
        return t._("a member")
    label = profession_label(q.profession, t)
    return f"{escape(q.name)}, {label}" if q.name else label


def theme_line(theme: Theme, t: Translator, *, label: str) -> str:
    """``label`` (already escaped or marked up), its members and professions."""
    members = t.ngettext("{n} member", "{n} members", theme.author_count)
    professions = t.ngettext("{n} profession", "{n} professions", theme.profession_count)
    return t._(
        "**{label}** — {members} from {professions}",
        label=label,
        members=members,
        professions=professions,
    )


def distinctive_line(d: Distinctive, t: Translator, *, label: str) -> str:
    """A profession's distinctive theme: ``label`` (escaped), its share there and elsewhere."""
    return t._(
        "**{profession}**: **{label}** — {n} of {total}, compared with {elsewhere} of {others} "
        "elsewhere",
        profession=profession_label(d.profession, t),
        label=label,
        n=d.authors,
        total=d.total,
        elsewhere=d.elsewhere,
        others=d.elsewhere_total,
    )


def also(d: Digest, section: str, index: int, t: Translator) -> str:
    """Why a shared or distinctive theme is not repeated under a sub-question: "also the most
    often cited gap (206 members)"; empty when it is not one."""
    notes = []
    for sub, m in merged(d):
        if m.section != section or m.index != index:
            continue
        members = t.ngettext("{n} member", "{n} members", m.authors)
        if sub.kind == "missing":
            note = (
                t._("also the most often cited gap ({members})", members=members)
                if m.rank == 0
                else t._("also cited as a gap ({members})", members=members)
            )
        else:
            note = (
                t._("also the most cited disappointment ({members})", members=members)
                if m.rank == 0
                else t._("also cited as a disappointment ({members})", members=members)
            )
        notes.append(note)
    return "; ".join(notes)


def merged(d: Digest) -> list[tuple[SubQuestion, Merged]]:
    """Every sub-question theme shown once, in the shared or distinctive section."""
    return [(sub, m) for sub in d.sub_questions for m in sub.merged]


def pointer(d: Digest, sub: SubQuestion, t: Translator) -> str:
    """What a sub-question's section says of its themes shown above (labels unescaped)."""
    labels = []
    for m in sub.merged:
        if m.section == "shared" and m.index < len(d.shared):
            labels.append(d.shared[m.index].label)
        elif m.section == "distinctive" and m.index < len(d.distinctive):
            labels.append(d.distinctive[m.index].theme.label)
    if not labels:
        return ""
    return t._(
        "Also among the themes above: {labels}.",
        labels=", ".join(t._("“{theme}”", theme=theme_phrase(label)) for label in labels),
    )


def small_round(d: Digest, t: Translator) -> str:
    """Why a small round shows no theme; empty when it could have some."""
    if not d.themes_from:
        return ""
    return t._(
        "Themes appear from {needed} answers on; this round has {n}.",
        needed=d.themes_from,
        n=d.participation.answers,
    )


def by_profession(d: Digest, t: Translator) -> list[str]:
    """ "Answers by profession" (other professions last), then the answers without one."""
    p = d.participation
    per = " · ".join(f"{profession_label(k, t)} {n}" for k, n in p.by_profession.items() if k)
    lines = [t._("Answers by profession: {list}.", list=per)] if per else []
    if p.unstated:
        lines.append(
            t.ngettext(
                "{n} answer without a profession given.",
                "{n} answers without a profession given.",
                p.unstated,
            )
        )
    return lines


def follow_up_question(d: Digest, t: Translator) -> str:
    """The suggested next question, in the circle's language, quoting the theme's label."""
    f = d.follow_up
    theme = theme_phrase(f.label)
    if f.kind == "crux" and theme and f.profession and f.other:
        return t._(
            "{first} and {second} members do not agree on “{statement}”: what separates "
            "you on this?",
            first=profession_label(f.profession, t),
            second=profession_label(f.other, t),
            statement=theme,
        )
    if f.kind == "crux" and theme:
        return t._(
            "Professions do not agree on “{statement}”: what separates you on this?",
            statement=theme,
        )
    if f.kind == "missing" and theme:
        return t._(
            "Many of you said this is missing: “{theme}”. What would concretely help you?",
            theme=theme,
        )
    if f.kind == "distinctive" and theme:
        return t._(
            "Among {profession} members, “{theme}” comes up far more often than elsewhere. "
            "How does it play out in your profession?",
            profession=profession_label(f.profession, t),
            theme=theme,
        )
    if f.kind == "shared" and theme:
        return t._(
            "“{theme}” comes up across professions. What has already worked for you?",
            theme=theme,
        )
    if f.kind == "not_heard":
        return t._(
            "What would make it easier for professions like {profession}, not heard yet, "
            "to take part?",
            profession=profession_label(f.profession, t),
        )
    return t._("What one change would make social networks serve your profession better?")


def theme_phrase(label: str) -> str:
    """A theme's label as quoted inside a sentence: one line, no closing punctuation."""
    return " ".join(label.split()).rstrip(" .;:!?")


def host_hint(question: str, t: Translator, *, prefix: str = "/") -> str:
    """What hosts (only) are told: the follow-up question and how to add it to the bank."""
    return t._(
        "Suggested follow-up question from the digest: {question}\nAdd it to the bank with "
        "{command}.",
        question=f"*{escape(question)}*",
        command=f"`{prefix}prompt add {question}`",
    )
