"""The digest's votes as members read them: two sections, a panel of the chart, the page's
table, and the one line hosts get when no statement could be ranked.

"Where professions agree" lists the bridging statements (every profession that voted agrees
by a majority), "Where professions differ" the cruxes (professions' agree shares far apart),
each with its votes by profession; professions under the guard are "other professions".
Statement text is member text: escaped by the caller's rules (Markdown here, HTML in
:func:`html_sections`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from bot.i18n import Translator
from bot.messenger import escape
from cogs.digest.result import OTHER, VoteCount, VoteEntry, Votes, real
from cogs.digest.words import profession_label, theme_phrase

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Colours of the chart's agreement panel (drawn on the participation chart's light card):
#: blue where a profession agrees, orange where it disagrees; readable by most colour-blind
#: readers (no red against green).
AGREE_COLOUR: Final = "#2f6690"
DISAGREE_COLOUR: Final = "#d9822b"
EMPTY_COLOUR: Final = "#e3e6ea"
#: Professions shown as the panel's rows (the most voting first, other professions last).
PANEL_ROWS: Final = 12


def shown(v: Votes) -> list[tuple[str, VoteEntry]]:
    """The statements shown, each with its section: ``agree`` first, then ``differ``."""
    return [*(("agree", e) for e in v.agree), *(("differ", e) for e in v.differ)]


def statement_phrase(text: str, t: Translator) -> str:
    """A statement quoted inside a sentence (« … » in French, “…” in English), unescaped."""
    return t._("“{theme}”", theme=theme_phrase(text))


def count_text(c: VoteCount, t: Translator) -> str:
    """``Nurse 4 of 5`` (agree votes of all the profession's votes)."""
    return t._(
        "{profession} {agree} of {votes}",
        profession=profession_label(c.profession, t),
        agree=c.agree,
        votes=c.votes,
    )


def by_agreement(entry: VoteEntry) -> list[VoteCount]:
    """Its professions, the most agreeing first (other professions last): a crux reads from
    one side to the other."""
    return sorted(entry.counts, key=lambda c: (not real(c.profession), -_share(c), -c.votes))


def counts_line(entry: VoteEntry, t: Translator) -> str:
    """``agree: Nurse 4 of 5 · Architect 1 of 4 · other professions 2 of 3``."""
    parts = " · ".join(count_text(c, t) for c in by_agreement(entry))
    return t._("agree: {counts}", counts=parts)


def _entry(entry: VoteEntry, t: Translator) -> str:
    voters = t.ngettext("{n} voter", "{n} voters", entry.voters)
    said = escape(statement_phrase(entry.text, t))
    number = t._("#{id}", id=entry.statement_id)  # n°12 in French, as the statement was posted
    return f"• {number} {said} — {voters}\n  {counts_line(entry, t)}"


def titles(t: Translator) -> dict[str, str]:
    """The two sections' titles."""
    return {"agree": t._("Where professions agree"), "differ": t._("Where professions differ")}


def sections(v: Votes, t: Translator) -> list[tuple[str, tuple[str, ...]]]:
    """The digest's two vote sections (title, Markdown entries); none when nothing is ranked."""
    heads = titles(t)
    out: list[tuple[str, tuple[str, ...]]] = []
    if v.agree:
        out.append((heads["agree"], tuple(_entry(e, t) for e in v.agree)))
    if v.differ:
        out.append((heads["differ"], tuple(_entry(e, t) for e in v.differ)))
    return out


def hosts_note(v: Votes, t: Translator) -> str:
    """What hosts are told when the round had statements but the digest shows none."""
    if not v.statements or v.agree or v.differ:
        return ""
    if not v.ranked:
        return t._(
            "Votes (hosts only): no statement reached {voters} from {professions}, so the "
            "digest ranks none ({statements}, {members} who voted).",
            voters=t.ngettext("{n} voter", "{n} voters", v.min_voters),
            professions=t.ngettext("{n} profession", "{n} professions", v.min_professions),
            statements=t.ngettext("{n} statement", "{n} statements", v.statements),
            members=t.ngettext("{n} member", "{n} members", v.voters),
        )
    return t.ngettext(
        "Votes (hosts only): {n} statement ranked, neither agreed by every profession nor "
        "splitting them: the digest shows no vote section.",
        "Votes (hosts only): {n} statements ranked, none agreed by every profession nor "
        "splitting them: the digest shows no vote section.",
        v.ranked,
    )


# ---------------------------------------------------------------- the web page


def _share(c: VoteCount) -> float:
    return c.agree / c.votes if c.votes else 0.0


def _html_entry(entry: VoteEntry, t: Translator) -> str:
    voters = t.ngettext("{n} voter", "{n} voters", entry.voters)
    rows = "".join(
        f"<tr><td>{html.escape(profession_label(c.profession, t))}</td>"
        f"<td class='n'>{c.agree}</td><td class='n'>{c.disagree}</td>"
        f"<td class='n'>{c.passed}</td>"
        f'<td class="bar"><span style="width:{round(100 * _share(c))}%"></span></td></tr>'
        for c in by_agreement(entry)
    )
    head = (
        f"<tr><th>{html.escape(t._('Profession'))}</th>"
        f"<th class='n'>{html.escape(t._('agree'))}</th>"
        f"<th class='n'>{html.escape(t._('disagree'))}</th>"
        f"<th class='n'>{html.escape(t._('pass'))}</th><th></th></tr>"
    )
    return (
        f"<li>{html.escape(t._('#{id}', id=entry.statement_id))} "
        f"<strong>{html.escape(statement_phrase(entry.text, t))}</strong> — "
        f'<span class="count">{html.escape(voters)}</span>'
        f'<table class="votes"><thead>{head}</thead><tbody>{rows}</tbody></table></li>'
    )


#: The page's style for the vote tables: the bar is the share who agree, in the accent colour.
HTML_STYLE: Final = """
table.votes { margin-top: 0.4rem; }
td.bar { width: 35%; }
td.bar span { display: block; height: 0.7rem; background: var(--accent); border-radius: 3px; }
"""


def html_sections(v: Votes, t: Translator) -> list[tuple[str, str]]:
    """The two sections as (title, HTML body); every text escaped."""
    heads = titles(t)
    out = []
    for key, entries in (("agree", v.agree), ("differ", v.differ)):
        if entries:
            items = "".join(_html_entry(e, t) for e in entries)
            out.append((heads[key], f"<ul>{items}</ul>"))
    return out


# ---------------------------------------------------------------- data


def as_json(v: Votes, t: Translator) -> dict[str, Any]:
    """The votes as export data (labels in the circle's language, no author)."""

    def entry(e: VoteEntry) -> dict[str, Any]:
        return {
            "statement_id": e.statement_id,
            "text": e.text,
            "voters": e.voters,
            "consensus": e.consensus,
            "spread": e.spread,
            "by_profession": [
                {
                    "profession": c.profession,
                    "label": profession_label(c.profession, t),
                    "agree": c.agree,
                    "disagree": c.disagree,
                    "pass": c.passed,
                }
                for c in e.counts
            ],
        }

    return {
        "statements": v.statements,
        "voters": v.voters,
        "ranked": v.ranked,
        "professions_agree": [entry(e) for e in v.agree],
        "professions_differ": [entry(e) for e in v.differ],
    }


# ---------------------------------------------------------------- the chart's panel


def rows(v: Votes) -> list[str]:
    """The panel's professions, top to bottom: most votes on the shown statements first,
    other professions last (those beyond :data:`PANEL_ROWS` folded into it)."""
    totals: dict[str, int] = {}
    for _, e in shown(v):
        for c in e.counts:
            totals[c.profession] = totals.get(c.profession, 0) + c.votes
    named = sorted((k for k in totals if real(k)), key=lambda k: (-totals[k], k))
    keys = named[:PANEL_ROWS]
    if OTHER in totals or len(named) > PANEL_ROWS:
        keys.append(OTHER)
    return keys


def panel_height(v: Votes) -> float:
    """The panel's height in inches (0 without a statement shown)."""
    return 1.3 + 0.36 * len(rows(v)) if shown(v) else 0.0


def _cell(e: VoteEntry, key: str, keys: list[str]) -> tuple[int, int, int]:
    """Agree, disagree and all votes of row ``key`` (other professions fold the rest)."""
    if key == OTHER:
        rest = [c for c in e.counts if c.profession not in keys[:-1]]
    else:
        rest = [c for c in e.counts if c.profession == key]
    return sum(c.agree for c in rest), sum(c.disagree for c in rest), sum(c.votes for c in rest)


def statement_mark(section: str, e: VoteEntry, t: Translator) -> str:
    """A statement's column: ``= #12`` (professions agree) or ``≠ #13`` (they differ), numbered
    as the sections number it (``= n°12`` in French)."""
    number = t._("#{id}", id=e.statement_id)
    return f"{'=' if section == 'agree' else '≠'} {number}"


def draw_panel(
    axes: Axes,
    v: Votes,
    t: Translator,
    *,
    text: str,
    background: str,
    wrap: Callable[[str], str],
) -> None:
    """Agreement by profession: a row per profession, a column per statement shown (by its
    number, as the sections list them), each cell blue where the profession agrees, orange
    where it disagrees, pale when split or passing, with its agree votes of all its votes."""
    from matplotlib.colors import LinearSegmentedColormap

    entries = shown(v)
    keys = rows(v)
    cmap = LinearSegmentedColormap.from_list("votes", [DISAGREE_COLOUR, "#f2f2f2", AGREE_COLOUR])
    axes.set_facecolor(background)
    axes.set_xlim(-0.5, len(entries) - 0.5)
    axes.set_ylim(len(keys) - 0.5, -0.5)
    for col, (_, e) in enumerate(entries):
        for row, key in enumerate(keys):
            agree, disagree, votes = _cell(e, key, keys)
            # 1: all agree, 0: all disagree, 1/2: even or only passes.
            share = 0.5 + (agree - disagree) / (2 * votes) if votes else 0.5
            colour = cmap(share) if votes else EMPTY_COLOUR
            axes.add_patch(_square(col, row, colour, background))
            dark = bool(votes) and abs(share - 0.5) > 0.3
            axes.text(
                col,
                row,
                f"{agree}/{votes}" if votes else "–",
                ha="center",
                va="center",
                fontsize=10,
                color="#ffffff" if dark else text,
            )
    axes.set_xticks(range(len(entries)), [statement_mark(sec, e, t) for sec, e in entries])
    axes.set_yticks(range(len(keys)), [wrap(profession_label(k, t)) for k in keys])
    axes.xaxis.tick_top()
    axes.tick_params(colors=text, labelsize=10.5, length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    key = t._("= professions agree · ≠ they differ · blue: agree · orange: disagree")
    axes.set_title(f"{t._('Agree votes by profession')}\n{key}", color=text, fontsize=9.5)


def _square(col: int, row: int, colour: Any, edge: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((col - 0.5, row - 0.5), 1, 1, facecolor=colour, edgecolor=edge, lw=2)
