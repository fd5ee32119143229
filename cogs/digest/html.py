"""A digest as one self-contained HTML page (``cercle digest --format html``, ``cercle archive``).

Everything is inline: the style sheet, and the chart as a ``data:`` URI; a Content Security
Policy forbids any other resource, so a page opened years later, offline, looks the same.
Headings are in the circle's language, quotes in their own (marked with ``lang``). Every text
from members (quotes, labels, the question, names) is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.i18n import Translator
from cogs.digest import render, votes_view
from cogs.digest.analysis import Digest, Distinctive, Quote, Theme

#: No resource but the page itself and its inline images: nothing is fetched, nothing runs.
POLICY: Final = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE: Final = (
    """
:root {
  color-scheme: light dark;
  --bg: #fbfbfa; --fg: #1f2328; --muted: #57606a; --accent: #2f6690;
  --card: #ffffff; --rule: #d8dee4;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16181c; --fg: #e6e8eb; --muted: #a4acb6; --accent: #8cb8e0;
    --card: #1f2228; --rule: #394049;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  overflow-wrap: anywhere;
}
main { max-width: 46rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0.25rem 0; }
h2 {
  font-size: 1.2rem; line-height: 1.3; margin: 2rem 0 0.6rem;
  padding-bottom: 0.25rem; border-bottom: 1px solid var(--rule);
}
a { color: var(--accent); }
.meta, .credit, .count { color: var(--muted); }
.meta { margin: 0 0 0.75rem; }
.prompt { font-size: 1.1rem; font-style: italic; }
ol, ul { padding-left: 1.4rem; }
li { margin: 0.9rem 0; }
blockquote {
  margin: 0.5rem 0 0; padding: 0.55rem 0.85rem; background: var(--card);
  border-left: 4px solid var(--accent); border-radius: 0 6px 6px 0;
}
blockquote p { margin: 0; }
.credit { display: block; margin-top: 0.3rem; font-size: 0.9rem; font-style: italic; }
figure { margin: 1rem 0; }
img { display: block; max-width: 100%; height: auto; border-radius: 8px; }
table { width: 100%; border-collapse: collapse; font-size: 0.95rem; }
th, td { padding: 0.3rem 0.4rem; border-bottom: 1px solid var(--rule); text-align: left; }
td.n, th.n { text-align: right; white-space: nowrap; }
.question {
  font-size: 1.1rem; font-style: italic; padding: 0.8rem 1rem; margin: 0;
  background: var(--card); border: 1px solid var(--rule); border-radius: 8px;
}
"""
    + votes_view.HTML_STYLE
)

_OPEN, _CLOSE = "\ue000", "\ue001"
_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One digest in the archive's index."""

    href: str
    title: str
    #: The circle's name and the date, as shown under the title.
    meta: str
    prompt: str = ""


def esc(text: str) -> str:
    """Member or bot text, safe inside an element or an attribute."""
    return html.escape(text, quote=True)


def rich(t: Translator, message: str, /, **params: str) -> str:
    """A translated message with its ``**bold**`` markup as HTML, every value escaped."""
    tokens = {name: f"{_OPEN}{i}{_CLOSE}" for i, name in enumerate(params)}
    text = _BOLD.sub(r"<strong>\1</strong>", esc(t._(message, **tokens)))
    for name, token in tokens.items():
        text = text.replace(token, esc(params[name]))
    return text


def _credit(q: Quote, t: Translator) -> str:
    if not q.profession:
        return t._("a member")
    label = render.profession_label(q.profession, t)
    return f"{q.name}, {label}" if q.name else label


def _quote(q: Quote, t: Translator) -> str:
    if not q.text:
        return ""
    lang = f' lang="{esc(q.lang)}"' if q.lang else ""
    return (
        f"<blockquote{lang}><p>{esc(q.text)}</p>"
        f'<span class="credit">— {esc(_credit(q, t))}</span></blockquote>'
    )


def _also(note: str) -> str:
    return f' · <em class="count">{esc(note)}</em>' if note else ""


def _theme(theme: Theme, t: Translator, note: str = "") -> str:
    line = rich(
        t,
        "**{label}** — {members} from {professions}",
        label=theme.label,
        members=t.ngettext("{n} member", "{n} members", theme.author_count),
        professions=t.ngettext("{n} profession", "{n} professions", theme.profession_count),
    )
    return f"<li>{line}{_also(note)}{_quote(theme.quote, t)}</li>"


def _distinctive(x: Distinctive, t: Translator, note: str = "") -> str:
    line = rich(
        t,
        "**{profession}**: **{label}** — {n} of {total}, compared with {elsewhere} of {others} "
        "elsewhere",
        profession=render.profession_label(x.profession, t),
        label=x.theme.label,
        n=str(x.authors),
        total=str(x.total),
        elsewhere=str(x.elsewhere),
        others=str(x.elsewhere_total),
    )
    return f"<li>{line}{_also(note)}{_quote(x.theme.quote, t)}</li>"


def _section(heading: str, body: str) -> str:
    return f"<section><h2>{esc(heading)}</h2>{body}</section>"


def _participation(d: Digest, t: Translator, chart: bytes | None) -> str:
    p = d.participation
    summary = t._(
        "{answers}, {comments} and {reactions} from {members}, {professions}.",
        answers=t.ngettext("{n} answer", "{n} answers", p.answers),
        comments=t.ngettext("{n} comment", "{n} comments", p.comments),
        reactions=t.ngettext("{n} reaction", "{n} reactions", p.reactions),
        members=t.ngettext("{n} member", "{n} members", p.members),
        professions=t.ngettext("{n} profession", "{n} professions", p.professions),
    )
    parts = [f"<p>{esc(summary)}</p>"]
    if p.by_language:
        langs = ", ".join(f"{lang.upper()} {n}" for lang, n in p.by_language.items())
        parts.append(f"<p>{esc(t._('Answers by language: {langs}.', langs=langs))}</p>")
    parts += [f"<p>{esc(line)}</p>" for line in render.by_profession(d, t)[1:]]  # unstated
    if render.small_round(d, t):
        parts.append(f"<p>{esc(render.small_round(d, t))}</p>")
    if chart:
        source = "data:image/png;base64," + base64.b64encode(chart).decode("ascii")
        alt = esc(t._("Participation by profession"))
        parts.append(f'<figure><img src="{source}" alt="{alt}"></figure>')
    rows = render.chart_rows(d, t)
    if rows:
        head = (
            f"<tr><th>{esc(t._('Profession'))}</th><th class='n'>{esc(t._('answers'))}</th>"
            f"<th class='n'>{esc(t._('comments'))}</th></tr>"
        )
        body = "".join(
            f"<tr><td>{esc(r.label)}</td><td class='n'>{r.answers}</td>"
            f"<td class='n'>{r.comments}</td></tr>"
            for r in rows
        )
        parts.append(f"<table><thead>{head}</thead><tbody>{body}</tbody></table>")
    return _section(t._("Participation"), "".join(parts))


def body(d: Digest, t: Translator, *, chart: bytes | None = None) -> str:
    """The digest's sections as HTML (what members read; never the hosts' hint)."""
    out = [_participation(d, t, chart)]
    if d.shared:
        items = "".join(
            _theme(theme, t, render.also(d, "shared", i, t))
            for i, theme in enumerate(d.shared[: render.SHOWN_SHARED])
        )
        out.append(_section(t._("Shared across professions"), f"<ol>{items}</ol>"))
    if d.distinctive:
        items = "".join(
            _distinctive(x, t, render.also(d, "distinctive", i, t))
            for i, x in enumerate(d.distinctive[: render.SHOWN_DISTINCTIVE])
        )
        out.append(_section(t._("What sets each profession apart"), f"<ul>{items}</ul>"))
    for sub in d.sub_questions:
        items = "".join(
            f"<li><strong>{esc(theme.label)}</strong> — "
            f"{esc(t.ngettext('{n} member', '{n} members', theme.author_count))}"
            f"{_quote(theme.quote, t)}</li>"
            for theme in sub.themes
        )
        above = render.pointer(d, sub, t)
        if items or above:
            listed = f"<ul>{items}</ul>" if items else ""
            out.append(_section(sub.question, listed + (f"<p>{esc(above)}</p>" if above else "")))
    if d.agreement:
        items = "".join(
            "<li>"
            + esc(
                t._(
                    "{approvals} from {professions}:",
                    approvals=t.ngettext("{n} approval", "{n} approvals", a.approvals),
                    professions=t.ngettext("{n} profession", "{n} professions", a.professions),
                )
            )
            + _quote(a.quote, t)
            + "</li>"
            for a in d.agreement
        )
        out.append(_section(t._("Agreement across professions"), f"<ul>{items}</ul>"))
    out += [_section(title, part) for title, part in votes_view.html_sections(d.votes, t)]
    if d.not_heard:
        labels = ", ".join(render.profession_label(k, t) for k in d.not_heard)
        said = t._("{professions}: your view is missing.", professions=labels)
        out.append(_section(t._("Not heard this round"), f"<p>{esc(said)}</p>"))
    question = render.follow_up_question(d, t)
    out.append(
        _section(t._("Suggested follow-up question"), f'<p class="question">{esc(question)}</p>')
    )
    return "".join(out)


def document(t: Translator, *, title: str, content: str) -> str:
    """A whole page around ``content`` (already HTML), in the translator's language."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{t.locale}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{content}\n</main>\n</body>\n</html>\n"
    )


def page(
    d: Digest, t: Translator, *, title: str, meta: str = "", chart: bytes | None = None
) -> str:
    """One digest as a self-contained page; ``meta`` (circle, date) goes under the title."""
    head = [f"<header><h1>{esc(title)}</h1>"]
    if meta:
        head.append(f'<p class="meta">{esc(meta)}</p>')
    if d.prompt:
        head.append(f'<p class="prompt">{esc(d.prompt)}</p>')
    head.append("</header>")
    return document(t, title=title, content="".join(head) + body(d, t, chart=chart))


def index(entries: Sequence[IndexEntry], t: Translator) -> str:
    """The archive's index: a link to each digest, in the order given (newest first)."""
    heading = t._("Digests")
    if entries:
        items = "".join(
            f'<li><a href="{esc(e.href)}">{esc(e.title)}</a>'
            f'<br><span class="meta">{esc(e.meta)}</span>'
            + (f'<br><span class="prompt">{esc(e.prompt)}</span>' if e.prompt else "")
            + "</li>"
            for e in entries
        )
        content = f"<ul>{items}</ul>"
    else:
        content = f"<p>{esc(t._('No digest has been posted yet.'))}</p>"
    return document(t, title=heading, content=f"<header><h1>{esc(heading)}</h1></header>{content}")
