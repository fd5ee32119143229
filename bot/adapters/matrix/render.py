"""The bot's Markdown as Matrix wants it: a plain ``body`` and a sanitised HTML ``formatted_body``.

Only the small Markdown subset the bot writes is understood (bold, italics, strike, inline code,
http(s) links, block quotes, ``-``/``*`` lists, backslash escapes). Every character of the input is
HTML-escaped and only a fixed set of tags is produced, so member text echoed inside bot
messages can never inject markup. Whatever the input, the work is bounded: quotes nest at most
:data:`MAX_QUOTE_DEPTH` deep (deeper ``>`` stay text) and links are bounded in length.
"""

from __future__ import annotations

import html
import re
from typing import Final

#: Block quotes deeper than this are shown as text (``>`` kept) inside the deepest quote.
MAX_QUOTE_DEPTH: Final = 8
#: Longer bracketed text is not a link label, nor a longer address a link (the search for
#: their end stays cheap on long lines of brackets).
MAX_LABEL: Final = 300
MAX_URL: Final = 2048

_INLINE: Final = re.compile(
    r"\\(?P<esc>[\\`*_~|>#\[\]()<!.+-])"
    r"|`(?P<code>[^`]+)`"
    r"|\*\*(?P<strong>.+?)\*\*"
    r"|~~(?P<strike>.+?)~~"
    r"|(?<![\w\\])_(?P<em>[^_\s](?:[^_]*?[^_\s])?)_(?!\w)"
    r"|(?<![\w\\*])\*(?P<em2>[^*\s](?:[^*]*?[^*\s])?)\*(?![\w*])"
    rf"|\[(?P<label>[^\]\n]{{1,{MAX_LABEL}}})\]\((?P<url>https?://[^)\s]{{1,{MAX_URL}}})\)"
)
_LIST_ITEM: Final = re.compile(r"^\s*[-*] +(.*)$")


def _inline(text: str, *, as_html: bool) -> str:
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        plain = text[position : match.start()]
        out.append(html.escape(plain, quote=False) if as_html else plain)
        position = match.end()
        # ``lastgroup`` would name ``url`` for a link: find the alternative that matched.
        kind = next(name for name, value in match.groupdict().items() if value is not None)
        if kind == "esc":
            char = match["esc"]
            out.append(html.escape(char, quote=False) if as_html else char)
        elif kind == "code":
            code = match["code"]
            out.append(f"<code>{html.escape(code, quote=False)}</code>" if as_html else code)
        elif kind == "label":
            label = _inline(match["label"], as_html=as_html)
            url = match["url"]
            out.append(
                f'<a href="{html.escape(url)}">{label}</a>' if as_html else f"{label} ({url})"
            )
        else:
            assert kind is not None
            inner = _inline(match[kind], as_html=as_html)
            tag = {"strong": "strong", "strike": "del", "em": "em", "em2": "em"}[kind]
            out.append(f"<{tag}>{inner}</{tag}>" if as_html else inner)
    rest = text[position:]
    out.append(html.escape(rest, quote=False) if as_html else rest)
    return "".join(out)


def to_plain(markdown: str) -> str:
    """The text without Markdown markers (the ``body`` every client can show)."""
    return "\n".join(_inline(line, as_html=False) for line in markdown.split("\n"))


def to_html(markdown: str) -> str:
    """Sanitised HTML for ``formatted_body``."""
    return _blocks(markdown, depth=0)


def _blocks(markdown: str, *, depth: int) -> str:
    blocks: list[str] = []
    lines = markdown.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith(">") and depth < MAX_QUOTE_DEPTH:
            quoted: list[str] = []
            while index < len(lines) and lines[index].startswith(">"):
                quoted.append(lines[index][1:].removeprefix(" "))
                index += 1
            inner = _blocks("\n".join(quoted), depth=depth + 1)
            blocks.append(f"<blockquote>{inner}</blockquote>")
            continue
        if _LIST_ITEM.match(line):
            items: list[str] = []
            while index < len(lines) and (item := _LIST_ITEM.match(lines[index])):
                items.append(f"<li>{_inline(item.group(1), as_html=True)}</li>")
                index += 1
            blocks.append("<ul>" + "".join(items) + "</ul>")
            continue
        blocks.append(_inline(line, as_html=True) + ("<br>" if index + 1 < len(lines) else ""))
        index += 1
    return "".join(blocks)
