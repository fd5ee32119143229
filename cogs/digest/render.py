"""A digest as members read it: Markdown, cards within Discord's limits, a chart, JSON and CSV.

Headings are in the circle's language; quotes stay in their own. Member text is always escaped.
Long digests are cut only between entries (a theme with its quote), never inside a sentence.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot.i18n import Translator
from bot.messenger import escape, quote, split_text
from bot.platform import Capabilities
from bot.types import Attachment, Card, Content
from cogs.digest import votes_view
from cogs.digest.result import SHOWN_DISTINCTIVE as SHOWN_DISTINCTIVE
from cogs.digest.result import SHOWN_SHARED as SHOWN_SHARED
from cogs.digest.result import Digest, Quote, Theme, real
from cogs.digest.words import also as also
from cogs.digest.words import by_profession as by_profession
from cogs.digest.words import credit as credit
from cogs.digest.words import distinctive_line as distinctive_line
from cogs.digest.words import follow_up_question as follow_up_question
from cogs.digest.words import host_hint as host_hint
from cogs.digest.words import long_date as long_date
from cogs.digest.words import merged as merged
from cogs.digest.words import pointer as pointer
from cogs.digest.words import profession_label as profession_label
from cogs.digest.words import small_round as small_round
from cogs.digest.words import theme_line as theme_line
from cogs.digest.words import theme_phrase as theme_phrase
from cogs.digest.words import title as title

#: Discord's embed limits (a description, and everything in one message's embeds).
EMBED_DESCRIPTION: Final = 4096
EMBED_TOTAL: Final = 6000
EMBED_TITLE: Final = 256
CHART_NAME: Final = "participation.png"


@dataclass(frozen=True, slots=True)
class Section:
    """A heading and its entries (each entry is kept whole when the digest is split)."""

    title: str
    entries: tuple[str, ...]


def quoted(q: Quote, t: Translator) -> str:
    """An escaped block quote with its credit."""
    if not q.text:
        return ""
    return quote(q.text) + "\n> — *" + credit(q, t) + "*"


def sections(d: Digest, t: Translator) -> list[Section]:
    """Every section of the digest, in order; empty sections are left out."""
    p = d.participation
    out: list[Section] = []
    langs = ", ".join(f"{lang.upper()} {n}" for lang, n in p.by_language.items())
    summary = t._(
        "{answers}, {comments} and {reactions} from {members}, {professions}.",
        answers=t.ngettext("{n} answer", "{n} answers", p.answers),
        comments=t.ngettext("{n} comment", "{n} comments", p.comments),
        reactions=t.ngettext("{n} reaction", "{n} reactions", p.reactions),
        members=t.ngettext("{n} member", "{n} members", p.members),
        professions=t.ngettext("{n} profession", "{n} professions", p.professions),
    )
    entries = [summary]
    if langs:
        entries.append(t._("Answers by language: {langs}.", langs=langs))
    entries += by_profession(d, t)
    if small_round(d, t):
        entries.append(small_round(d, t))
    out.append(Section(t._("Participation"), tuple(entries)))
    if d.shared:
        out.append(
            Section(
                t._("Shared across professions"),
                tuple(
                    f"{i}. {theme_line(theme, t, label=escape(theme.label))}"
                    + _note(also(d, "shared", i - 1, t))
                    + f"\n{quoted(theme.quote, t)}".rstrip()
                    for i, theme in enumerate(d.shared[:SHOWN_SHARED], 1)
                ),
            )
        )
    if d.distinctive:
        out.append(
            Section(
                t._("What sets each profession apart"),
                tuple(
                    f"• {distinctive_line(x, t, label=escape(x.theme.label))}"
                    + _note(also(d, "distinctive", i, t))
                    + f"\n{quoted(x.theme.quote, t)}".rstrip()
                    for i, x in enumerate(d.distinctive[:SHOWN_DISTINCTIVE])
                ),
            )
        )
    for sub in d.sub_questions:
        entries = [
            f"• **{escape(theme.label)}** — "
            + t.ngettext("{n} member", "{n} members", theme.author_count)
            + f"\n{quoted(theme.quote, t)}".rstrip()
            for theme in sub.themes
        ]
        if pointer(d, sub, t):
            entries.append(escape(pointer(d, sub, t)))
        if entries:
            out.append(Section(escape(sub.question), tuple(entries)))
    if d.agreement:
        out.append(
            Section(
                t._("Agreement across professions"),
                tuple(
                    "• "
                    + t._(
                        "{approvals} from {professions}:",
                        approvals=t.ngettext("{n} approval", "{n} approvals", a.approvals),
                        professions=t.ngettext("{n} profession", "{n} professions", a.professions),
                    )
                    + f"\n{quoted(a.quote, t)}"
                    for a in d.agreement
                ),
            )
        )
    out += [Section(title, entries) for title, entries in votes_view.sections(d.votes, t)]
    if d.not_heard:
        labels = ", ".join(profession_label(k, t) for k in d.not_heard)
        out.append(
            Section(
                t._("Not heard this round"),
                (t._("{professions}: your view is missing.", professions=labels),),
            )
        )
    # Members see the question only; how to add it to the bank goes to hosts (host_hint).
    question = follow_up_question(d, t)
    out.append(Section(t._("Suggested follow-up question"), (f"*{escape(question)}*",)))
    return out


def _note(text: str) -> str:
    return f" · *{text}*" if text else ""


def markdown(d: Digest, t: Translator, *, title: str) -> str:
    """The whole digest as Markdown (console, Matrix, files)."""
    parts = [f"## {title}", f"*{escape(d.prompt)}*" if d.prompt else ""]
    for section in sections(d, t):
        parts.append(f"**{section.title}**\n" + "\n\n".join(section.entries))
    return "\n\n".join(p for p in parts if p)


def contents(
    d: Digest,
    t: Translator,
    caps: Capabilities,
    *,
    title: str,
    chart: bytes | None = None,
) -> list[Content]:
    """The messages that carry the digest on a platform, the chart on the last one."""
    files = (
        (Attachment(CHART_NAME, chart, "image/png", t._("Participation by profession")),)
        if chart
        else ()
    )
    if not caps.cards:
        return [Content(text=markdown(d, t, title=title), attachments=files)]
    cards = _cards(d, t, title=title)
    messages = [Content(card=card) for card in cards]
    last = messages[-1]
    messages[-1] = Content(text=last.text, card=last.card, attachments=files)
    return messages


def _cards(d: Digest, t: Translator, *, title: str) -> list[Card]:
    """Cards (embeds) of at most 4,096 characters a body, 6,000 in all, cut between entries."""
    title = title[: EMBED_TITLE - 1] + "…" if len(title) > EMBED_TITLE else title
    budget = min(EMBED_DESCRIPTION, EMBED_TOTAL - len(title) - 100)
    blocks: list[str] = [f"*{escape(d.prompt)}*"] if d.prompt else []
    for section in sections(d, t):
        entries = list(section.entries)
        blocks.append(f"**{section.title}**\n{entries[0]}")
        blocks.extend(entries[1:])
    bodies: list[str] = []
    for block in blocks:
        for piece in split_text(block, budget):  # only a giant entry is split (at sentences)
            if bodies and len(bodies[-1]) + 2 + len(piece) <= budget:
                bodies[-1] += "\n\n" + piece
            else:
                bodies.append(piece)
    count = len(bodies)
    return [
        Card(
            title=title if i == 0 else f"{title} ({i + 1}/{count})"[:EMBED_TITLE],
            body=body,
        )
        for i, body in enumerate(bodies)
    ]


# ---------------------------------------------------------------- the chart


#: An opaque light card with dark text and saturated bars reads the same on a light or a dark
#: theme (a transparent background left black text on a dark chat).
CHART_BACKGROUND: Final = "#f6f7f9"
CHART_TEXT: Final = "#1f2328"
CHART_ANSWERS: Final = "#2f6690"
CHART_COMMENTS: Final = "#d9822b"
CHART_ROWS: Final = 25
#: A label wraps at this many characters, on two lines at most.
CHART_LABEL: Final = 24
#: 800 pixels wide, with type large enough to stay legible when a phone shrinks it to 40 %.
CHART_INCHES: Final = 6.4
CHART_DPI: Final = 125


@dataclass(frozen=True, slots=True)
class ChartRow:
    """One bar of the chart: a profession's answers and comments."""

    label: str
    answers: int
    comments: int

    @property
    def total(self) -> int:
        """Answers and comments."""
        return self.answers + self.comments


def chart_rows(d: Digest, t: Translator) -> list[ChartRow]:
    """The chart's bars, top to bottom: most answers and comments first, then by name."""
    p = d.participation
    keys = {k for k in (*p.by_profession, *p.comments_by_profession) if k}  # "" is no profession
    rows = [
        ChartRow(
            profession_label(key, t),
            p.by_profession.get(key, 0),
            p.comments_by_profession.get(key, 0),
        )
        for key in keys
    ]
    return sorted(rows, key=lambda r: (-r.total, -r.answers, r.label.casefold()))


def chart_title(t: Translator, *, number: int | None = None, day: str = "") -> str:
    """The chart's title: the round's number and date when known."""
    if number and day:
        return t._("Participation by profession — round #{n}, {day}", n=number, day=day)
    if number:
        return t._("Participation by profession — round #{n}", n=number)
    return t._("Participation by profession")


def chart_png(d: Digest, t: Translator, *, number: int | None = None, day: str = "") -> bytes:
    """Participation by profession (answers and comments, most first) as a PNG bar chart.

    The title carries the round's number and ``day``; the subtitle the totals, reactions
    included (they are not counted by profession).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    p = d.participation
    every = chart_rows(d, t)
    rows = every[:CHART_ROWS][::-1]  # barh draws bottom-up
    labels = [_wrap(r.label) for r in rows]
    answers = [r.answers for r in rows]
    comments = [r.comments for r in rows]
    subtitle = t._(
        "In all: {answers}, {comments} and {reactions}.",
        answers=t.ngettext("{n} answer", "{n} answers", p.answers),
        comments=t.ngettext("{n} comment", "{n} comments", p.comments),
        reactions=t.ngettext("{n} reaction", "{n} reactions", p.reactions),
    )
    if len(every) > len(rows):
        hidden = len(every) - len(rows)
        subtitle += " " + t.ngettext(
            "{n} more profession not shown.", "{n} more professions not shown.", hidden
        )
    if p.unstated:
        subtitle += " " + t.ngettext(
            "{n} answer without a profession given.",
            "{n} answers without a profession given.",
            p.unstated,
        )
    bars = 1.5 + 0.42 * max(len(rows), 1)
    votes = votes_view.panel_height(d.votes)
    figure = Figure(
        figsize=(CHART_INCHES, bars + votes),
        dpi=CHART_DPI,
        facecolor=CHART_BACKGROUND,
        layout="constrained",
    )
    grid = figure.add_gridspec(2 if votes else 1, 1, height_ratios=[bars, votes] if votes else None)
    axes = figure.add_subplot(grid[0], facecolor=CHART_BACKGROUND)
    if votes:  # a second panel: agreement by profession on the statements shown
        votes_view.draw_panel(
            figure.add_subplot(grid[1]),
            d.votes,
            t,
            text=CHART_TEXT,
            background=CHART_BACKGROUND,
            wrap=_wrap,
        )
    positions = list(range(len(rows)))
    axes.barh(positions, answers, color=CHART_ANSWERS, label=t._("answers"))
    axes.barh(positions, comments, left=answers, color=CHART_COMMENTS, label=t._("comments"))
    for y, row in zip(positions, rows, strict=True):
        axes.annotate(
            str(row.total),
            (row.total, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            color=CHART_TEXT,
            fontsize=10,
        )
    axes.set_yticks(positions, labels)
    figure.suptitle(chart_title(t, number=number, day=day), color=CHART_TEXT, fontsize=13)
    axes.set_title(subtitle, color=CHART_TEXT, fontsize=10.5)
    axes.tick_params(colors=CHART_TEXT, labelsize=10.5)
    axes.spines[["top", "right"]].set_visible(False)
    axes.spines[["left", "bottom"]].set_color(CHART_TEXT)
    axes.margins(x=0.08)
    if rows and votes:  # under its own bars, above the votes' panel
        legend = axes.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.06), ncols=2, frameon=False
        )
        for text in legend.get_texts():
            text.set_color(CHART_TEXT)
    elif rows:
        legend = figure.legend(loc="outside lower center", ncols=2, frameon=False)
        for text in legend.get_texts():
            text.set_color(CHART_TEXT)
    else:
        axes.set_yticks([])
        axes.text(
            0.5,
            0.5,
            t._("No answers yet."),
            ha="center",
            va="center",
            color=CHART_TEXT,
            transform=axes.transAxes,
        )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor=CHART_BACKGROUND)
    return buffer.getvalue()


def _wrap(label: str) -> str:
    """A profession on at most two short lines (the bars keep most of the width)."""
    lines = textwrap.wrap(label, CHART_LABEL, break_long_words=True) or [""]
    if len(lines) > 2:
        lines = [lines[0], lines[1][: CHART_LABEL - 1] + "…"]
    return "\n".join(lines)


# ---------------------------------------------------------------- data forms


def _quote_data(q: Quote, t: Translator) -> dict[str, Any]:
    return {
        "text": q.text,
        "lang": q.lang,
        "profession": q.profession or None,
        "credit": credit(q, t),
    }


def _professions_data(theme: Theme, d: Digest, t: Translator) -> tuple[list[Any], int]:
    """Professions named next to a theme: only those with enough authors to stay anonymous."""
    totals = d.participation.authors_by_profession
    named = [
        {
            "profession": key,
            "label": profession_label(key, t),
            "authors": n,
            "of": totals.get(key, 0),
        }
        for key, n in theme.authors.items()
        if real(key)
    ]
    return named, max(theme.profession_count - len(named), 0)


def as_json(d: Digest, t: Translator) -> dict[str, Any]:
    """The digest as data (``cercle digest --format json``, ``/digest export``)."""
    p = d.participation
    shared = []
    for index, theme in enumerate(d.shared):
        named, others = _professions_data(theme, d, t)
        shared.append(
            {
                "label": theme.label,
                "keywords": list(theme.keywords),
                "professions": named,
                "other_professions": others,
                "answers": theme.answers,
                "authors": theme.author_count,
                "score": round(theme.score, 4),
                "quote": _quote_data(theme.quote, t),
                "also": also(d, "shared", index, t),
            }
        )
    return {
        "prompt": d.prompt,
        "participation": {
            "answers": p.answers,
            "comments": p.comments,
            "reactions": p.reactions,
            "members": p.members,
            "professions": p.professions,
            "without_profession": p.unstated,
            "by_profession": [
                {
                    "profession": key,
                    "label": profession_label(key, t),
                    "answers": n,
                    "authors": p.authors_by_profession.get(key, 0),
                    "comments": p.comments_by_profession.get(key, 0),
                }
                for key, n in p.by_profession.items()
                if key
            ],
            "by_language": dict(p.by_language),
            "themes_from": d.themes_from,
        },
        "shared_themes": shared,
        "distinctive_themes": [
            {
                "profession": x.profession,
                "profession_label": profession_label(x.profession, t),
                "label": x.theme.label,
                "keywords": list(x.theme.keywords),
                "authors": x.authors,
                "of": x.total,
                "share": round(x.share, 4),
                "elsewhere": x.elsewhere,
                "elsewhere_of": x.elsewhere_total,
                "share_elsewhere": round(x.share_elsewhere, 4),
                "quote": _quote_data(x.theme.quote, t),
                "also": also(d, "distinctive", index, t),
            }
            for index, x in enumerate(d.distinctive)
        ],
        "sub_questions": [
            {
                "question": s.question,
                "kind": s.kind,
                "themes": [
                    {
                        "label": theme.label,
                        "answers": theme.answers,
                        "authors": theme.author_count,
                        "quote": _quote_data(theme.quote, t),
                    }
                    for theme in s.themes
                ],
                "shown_above": [
                    {"section": m.section, "index": m.index, "rank": m.rank, "authors": m.authors}
                    for m in s.merged
                ],
            }
            for s in d.sub_questions
        ],
        "agreement": [
            {
                "approvals": a.approvals,
                "professions": a.professions,
                "quote": _quote_data(a.quote, t),
            }
            for a in d.agreement
        ],
        "not_heard": [{"profession": k, "label": profession_label(k, t)} for k in d.not_heard],
        "votes": votes_view.as_json(d.votes, t),
        "follow_up": follow_up_question(d, t),
    }


def as_csv(d: Digest, t: Translator) -> str:
    """One row per theme (shared, distinctive, sub-question), for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["section", "label", "profession", "authors", "of", "answers", "quote", "credit"]
    )
    rows: list[Sequence[object]] = []
    for theme in d.shared:
        rows.append(
            [
                "shared",
                theme.label,
                "",
                theme.author_count,
                d.participation.members,
                theme.answers,
                theme.quote.text,
                credit(theme.quote, t),
            ]
        )
    for x in d.distinctive:
        rows.append(
            [
                "distinctive",
                x.theme.label,
                profession_label(x.profession, t),
                x.authors,
                x.total,
                x.theme.answers,
                x.theme.quote.text,
                credit(x.theme.quote, t),
            ]
        )
    for sub in d.sub_questions:
        for theme in sub.themes:
            rows.append(
                [
                    sub.kind,
                    theme.label,
                    "",
                    theme.author_count,
                    "",
                    theme.answers,
                    theme.quote.text,
                    credit(theme.quote, t),
                ]
            )
    writer.writerows(rows)
    return buffer.getvalue()
